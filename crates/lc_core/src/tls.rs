//! The TLS client settings of the modules that talk to a server and verify it (the Atom API of
//! `lc_owners`, the SMTP server of `lc_owner_mail`): rustls with ring, built into the static
//! binaries. `validate_certs` and `ca_path` mean the same in every module: verification on by
//! default, against the PEM file `ca_path` when given, else the Mozilla roots built in.

use crate::Error;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;

pub use rustls;

/// The client configuration for `validate_certs` and `ca_path`. With `validate_certs` false any
/// certificate is taken (its signatures are still checked), and `ca_path` is not read.
pub fn client_config(
    validate_certs: bool,
    ca_path: Option<&str>,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid(format!("TLS: {e}")))?;
    let config = if !validate_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match ca_path {
            Some(path) => {
                use rustls_pki_types::pem::PemObject;
                let certs: Vec<_> = CertificateDer::pem_file_iter(path)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| Error::invalid(format!("ca_path {path}: {e}")))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(Error::invalid(format!(
                        "ca_path {path}: no PEM certificate in it"
                    )));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The name to verify the server's certificate against: a DNS name or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|e| Error::invalid(format!("{host:?} is not a host name for TLS: {e}")))
}

/// A refused server certificate, said the same way by every module: why, and which options
/// help. `None` when `error_text` is not about the certificate.
pub fn certificate_refused(error_text: &str) -> Option<String> {
    error_text
        .split_once("invalid peer certificate: ")
        .map(|(_, why)| {
            format!(
                "the server's certificate was refused ({why}): give the CA that signed it with \
                 ca_path, or set validate_certs false"
            )
        })
}

/// A TLS error as a person reads it (see [`certificate_refused`]).
pub fn describe(e: &std::io::Error) -> String {
    let text = e.to_string();
    certificate_refused(&text).unwrap_or(text)
}

/// validate_certs false: any certificate is taken (signatures are still checked).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_a_certificate_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let p = path.to_str().unwrap();
        let e = client_config(true, Some(p)).unwrap_err();
        assert_eq!(
            e.one_line(),
            format!("ca_path {p}: no PEM certificate in it")
        );
        assert!(client_config(false, Some(p)).is_ok());
        assert!(client_config(true, None).is_ok());
        assert!(server_name("127.0.0.1").is_ok() && server_name("smtp.example.com").is_ok());
        assert_eq!(
            certificate_refused("invalid peer certificate: UnknownIssuer").as_deref(),
            Some("the server's certificate was refused (UnknownIssuer): give the CA that signed it with ca_path, or set validate_certs false")
        );
        assert_eq!(certificate_refused("connection reset"), None);
    }
}
