//! Jobs and uploads over HTTP, the way a client would.

use super::{SignedIn, TestApp};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

impl TestApp {
    /// Creates a job as `user` and returns its id.
    pub async fn create_job(&self, user: &SignedIn, title: &str) -> String {
        let response = self
            .as_user(user, Method::POST, "/api/v1/jobs")
            .json(&json!({
                "title": title,
                "description": "Trainee solicitor, London",
                "criteria": [
                    {"text": "Qualifying law degree", "kind": "must", "weight": 5},
                    {"text": "Commercial awareness", "kind": "nice", "weight": 2}
                ]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let job: Value = response.json().await.unwrap();
        job["id"].as_str().unwrap().to_owned()
    }

    /// Uploads `files` (name, bytes) into `job` as `user`, one `file` part each.
    pub async fn upload(
        &self,
        user: &SignedIn,
        job: &str,
        files: &[(&str, Vec<u8>)],
    ) -> reqwest::Response {
        let form = files.iter().fold(Form::new(), |form, (name, bytes)| {
            form.part("file", Part::bytes(bytes.clone()).file_name((*name).to_owned()))
        });
        self.as_user(user, Method::POST, &format!("/api/v1/jobs/{job}/documents"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads `files` and returns the JSON answer, failing unless it is 201.
    pub async fn upload_ok(&self, user: &SignedIn, job: &str, files: &[(&str, Vec<u8>)]) -> Value {
        let response = self.upload(user, job, files).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// Uploads one file that must be accepted, and returns its document id.
    pub async fn upload_one(&self, user: &SignedIn, job: &str, name: &str, bytes: &[u8]) -> String {
        let body = self.upload_ok(user, job, &[(name, bytes.to_vec())]).await;
        body["documents"][0]["id"].as_str().unwrap().to_owned()
    }

    /// Issues a signed link to `document` as `user`; returns the answer.
    pub async fn document_link(&self, user: &SignedIn, document: &str) -> reqwest::Response {
        self.as_user(user, Method::POST, &format!("/api/v1/documents/{document}/url"))
            .send()
            .await
            .unwrap()
    }

    /// Issues a signed link and returns its URL, failing unless it is issued.
    pub async fn link_url(&self, user: &SignedIn, document: &str) -> String {
        let response = self.document_link(user, document).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        body["url"].as_str().unwrap().to_owned()
    }

    /// The audit actions recorded for the organisation, oldest first.
    pub async fn audit_actions(&self) -> Vec<(String, String, Option<String>)> {
        let db = self.db.connect().await;
        let rows: Vec<(String, String, Option<String>)> = super::with_pool!(&db, |pool| {
            sqlx::query_as(
                "SELECT action, outcome, CAST(details AS TEXT) FROM audit_events ORDER BY org_id, seq",
            )
            .fetch_all(pool)
            .await
        })
        .unwrap();
        db.close().await;
        rows
    }
}
