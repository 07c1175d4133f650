//! connections.dr.lc_owner_mail: sends each owner's message (as connections.dr.lc_owner_messages
//! writes them) over SMTP, STARTTLS or implicit TLS, with a record of what was sent so that a
//! rerun mails no one twice.

fn main() -> std::process::ExitCode {
    lc_core::protocol::run::<lc_owner_mail::OwnerMail>()
}
