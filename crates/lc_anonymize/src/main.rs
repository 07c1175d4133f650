//! `lc-anonymize IN OUT`: copies an export XML or an HTML sync report (or every such file of a
//! folder, as one run) with its UUIDs, names, titles and e-mail addresses replaced by consistent
//! pseudonyms, so that the copy can be sent to the lc-recover maintainers. Prints what it did,
//! one line per file; on an error, one line naming the file, and nothing written.

use std::path::Path;
use std::process::ExitCode;

use lc_anonymize::{anonymize, Outcome, Pseudonyms};

const USAGE: &str = "usage: lc-anonymize IN OUT
  IN   an export XML, an HTML report, or a folder of them (done as one run: the same value
       gets the same pseudonym in every file)
  OUT  the copy: a new file (or a folder to put it in), or a new or empty folder for a folder
Replaced: UUIDs, names, titles, e-mail addresses. Kept: the markup, the labels, the application
ids and names, field names and values (public, private, none, ...), numbers, dates, yes/no.
Files that are neither XML nor HTML are not copied.";

// A CLI talks to its user on stdout and stderr by nature.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = match &args[..] {
        [h] if h == "-h" || h == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [i, o] if !i.starts_with('-') || Path::new(i).exists() => (i, o),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut p = match Pseudonyms::random() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lc-anonymize: no random key from the system: {e}");
            return ExitCode::FAILURE;
        }
    };
    match anonymize(Path::new(input), Path::new(output), &mut p) {
        Ok(outcomes) => {
            let mut copied = 0;
            for o in &outcomes {
                match o {
                    Outcome::Copied {
                        input,
                        output,
                        stats,
                        ..
                    } => {
                        copied += 1;
                        let labels = if stats.labels.is_empty() {
                            String::new()
                        } else {
                            format!("; labels kept: {}", stats.labels.join(" | "))
                        };
                        println!(
                            "{} -> {}: {} values replaced{labels}",
                            input.display(),
                            output.display(),
                            stats.replaced
                        );
                    }
                    Outcome::Skipped { input } => {
                        println!("{}: neither XML nor HTML, not copied", input.display())
                    }
                }
            }
            println!(
                "{copied} files copied, {} names, titles and e-mail addresses replaced; \
                 read the copy before you send it",
                p.texts()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lc-anonymize: {}", e.one_line());
            ExitCode::FAILURE
        }
    }
}
