//! Screening over HTTP: jobs with given criteria, waiting for the queue, results.

use super::{SignedIn, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

impl TestApp {
    /// Creates a job with `criteria` (JSON array) as `user`; returns the job as answered.
    pub async fn create_job_with(&self, user: &SignedIn, title: &str, criteria: Value) -> Value {
        let response = self
            .as_user(user, Method::POST, "/api/v1/jobs")
            .json(&json!({"title": title, "description": "", "criteria": criteria}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// GETs `path` as `user` and returns the JSON, failing unless it is 200.
    pub async fn get_json(&self, user: &SignedIn, path: &str) -> Value {
        let response = self.as_user(user, Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}: {}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// Waits until the job has completed or failed (the workers run in the background), and
    /// returns it. Gives up after two minutes, which only a stuck queue takes.
    pub async fn wait_for_job(&self, user: &SignedIn, job: &str) -> Value {
        for _ in 0..1200 {
            let current = self.get_json(user, &format!("/api/v1/jobs/{job}")).await;
            if matches!(current["status"].as_str(), Some("completed" | "failed")) {
                return current;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("job {job} did not finish");
    }

    /// The job's ranked results.
    pub async fn results(&self, user: &SignedIn, job: &str) -> Vec<Value> {
        let body = self.get_json(user, &format!("/api/v1/jobs/{job}/results")).await;
        body.as_array().unwrap().clone()
    }
}

/// The criteria most screening tests use.
pub fn trainee_criteria() -> Value {
    json!([
        {"text": "2:1 degree or above", "kind": "knockout", "weight": 5},
        {"text": "3+ years' experience in litigation", "kind": "must", "weight": 4},
        {"text": "SQE1 and SQE2", "kind": "must", "weight": 3},
        {"text": "Fluent French", "kind": "nice", "weight": 2}
    ])
}
