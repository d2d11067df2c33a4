//! TLS 1.3 only: a TLS 1.2 client is refused, a TLS 1.3 client is served (with HSTS).

use crate::support::{Backend, TestApp};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn client(
    root: &CertificateDer<'static>,
    version: &'static SupportedProtocolVersion,
) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Performs a handshake and, if it succeeds, a `GET /healthz`; returns the raw response.
async fn get_healthz(app: &TestApp, connector: &TlsConnector) -> std::io::Result<String> {
    let tcp = TcpStream::connect(app.addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await?;
    let mut response = String::new();
    tls.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::test]
async fn only_tls_1_3_is_spoken() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("PETAL_TLS_CERT", cert_path.display().to_string()),
            ("PETAL_TLS_KEY", key_path.display().to_string()),
        ],
    )
    .await;
    let root = cert.cert.der().clone();
    let tls13 = client(&root, &rustls::version::TLS13);
    let tls12 = client(&root, &rustls::version::TLS12);

    // The server migrates before it listens: retry the TLS 1.3 client until it is up.
    let mut served = None;
    for _ in 0..500 {
        if let Ok(response) = get_healthz(&app, &tls13).await {
            served = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let response = served.expect("TLS 1.3 client was never served");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_lowercase().contains("strict-transport-security: max-age="), "{response}");

    let refused = get_healthz(&app, &tls12).await.expect_err("TLS 1.2 must be refused");
    let message = refused.to_string();
    assert!(
        message.contains("ProtocolVersion") || message.contains("protocol version"),
        "{message}"
    );
    app.stop().await.unwrap();
}
