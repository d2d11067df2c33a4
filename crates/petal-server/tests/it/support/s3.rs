//! A real S3-compatible server for the object-store tests: moto's server (PyPI `moto[server]`)
//! on a free port of 127.0.0.1, with one bucket. CI installs it and sets
//! `PETAL_TEST_REQUIRE_S3`, which turns its absence into a failure.

use std::process::{Child, Command, Stdio};

/// A running S3-compatible server.
pub struct S3Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket created for the test.
    pub bucket: String,
}

impl S3Server {
    /// Starts the server and creates a bucket; `None` (with a note) if moto is not installed.
    pub async fn start() -> Option<S3Server> {
        let installed = Command::new("python3")
            .args(["-c", "import moto.server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                std::env::var("PETAL_TEST_REQUIRE_S3").is_err(),
                "PETAL_TEST_REQUIRE_S3 is set but moto's server is not installed"
            );
            eprintln!("SKIPPED: moto's server is not installed (pip install 'moto[server]')");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: format!("petal-{}", uuid::Uuid::new_v4().simple()),
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(&server.endpoint).send().await.is_ok() {
                let created = client.put(server.bucket_url("")).send().await.unwrap();
                assert!(
                    created.status().is_success(),
                    "cannot create bucket: {}",
                    created.status()
                );
                return Some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("moto's server did not start");
    }

    /// The settings that point Petal at this server, under `prefix` in the bucket.
    pub fn petal_env(&self, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("PETAL_STORAGE_URL", format!("s3://{}/{prefix}", self.bucket)),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "petal-test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "petal-test-secret".to_owned()),
        ]
    }

    /// The URL of `key` in the bucket (path style).
    fn bucket_url(&self, key: &str) -> String {
        format!("{}/{}/{key}", self.endpoint, self.bucket)
    }

    /// The whole bucket, opened directly (no prefix).
    pub fn bucket_store(&self) -> petal_storage::objects::ObjectStorage {
        let options: Vec<(String, String)> = self
            .petal_env("")
            .into_iter()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect();
        petal_storage::objects::ObjectStorage::open(&format!("s3://{}", self.bucket), &options)
            .unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
