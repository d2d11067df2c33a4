//! Scripted stand-ins for the LLM APIs Petal calls: local HTTP servers that speak the real request
//! and response shapes of Anthropic's Messages API and OpenAI's Chat Completions API. A test queues
//! the replies it wants, points Petal at [`LlmMock::base_url`] and inspects what arrived.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which API a mock speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// Anthropic's Messages API: `POST /v1/messages`, structured output as a `tool_use` block.
    Anthropic,
    /// OpenAI's Chat Completions API: `POST /v1/chat/completions`, JSON in `message.content`.
    OpenAi,
}

/// What the mock answers to one request.
#[derive(Clone)]
pub enum Reply {
    /// A successful answer whose structured output is `answer(&request_body_json)`: for Anthropic
    /// the `input` of a `tool_use` block (named after `tool_choice.name`, else the first tool), for
    /// OpenAI `choices[0].message.content` holding the JSON serialised to a string.
    Answer(Arc<dyn Fn(&Value) -> Value + Send + Sync>),
    /// A successful envelope whose output is this raw text: for Anthropic a `text` block (stop
    /// reason `end_turn`) instead of the `tool_use` block, for OpenAI `message.content` verbatim.
    Malformed(String),
    /// An error in the API's real error shape.
    Error {
        /// The HTTP status.
        status: u16,
        /// The `retry-after` header value, if any.
        retry_after: Option<String>,
        /// The error type, e.g. `rate_limit_error` (Anthropic) or `invalid_request_error`.
        kind: String,
        /// The error message.
        message: String,
    },
    /// Waits until [`LlmMock::release`] is called, then answers like the inner reply.
    Held(Box<Reply>),
}

impl Reply {
    /// Answers `value` whatever the request.
    pub fn json(value: Value) -> Reply {
        Reply::Answer(Arc::new(move |_| value.clone()))
    }

    /// Answers `answer(&request_body_json)`.
    pub fn answer(answer: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Reply {
        Reply::Answer(Arc::new(answer))
    }

    /// An error without a `retry-after` header.
    pub fn error(status: u16, kind: &str, message: &str) -> Reply {
        Reply::Error {
            status,
            retry_after: None,
            kind: kind.to_owned(),
            message: message.to_owned(),
        }
    }

    /// This reply, held until [`LlmMock::release`].
    pub fn held(self) -> Reply {
        Reply::Held(Box::new(self))
    }
}

/// One request the mock received (valid or not).
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request path, e.g. `/v1/messages`.
    pub path: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body, as text.
    pub body: String,
}

impl Recorded {
    /// The body parsed as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The scripted replies and the record of requests.
struct Script {
    queue: VecDeque<Reply>,
    default: Reply,
    requests: Vec<Recorded>,
}

/// What the server task shares with the test.
struct Shared {
    api: Api,
    key: String,
    script: Mutex<Script>,
    released: watch::Sender<bool>,
}

impl Shared {
    fn script(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap()
    }
}

/// A running mock LLM API on 127.0.0.1; the server stops when this is dropped.
pub struct LlmMock {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl LlmMock {
    /// Starts a mock of `api` that accepts only requests bearing `api_key`.
    pub async fn start(api: Api, api_key: &str) -> LlmMock {
        let default = match api {
            Api::Anthropic => Reply::error(500, "api_error", "no reply scripted"),
            Api::OpenAi => Reply::error(500, "server_error", "no reply scripted"),
        };
        let shared = Arc::new(Shared {
            api,
            key: api_key.to_owned(),
            script: Mutex::new(Script { queue: VecDeque::new(), default, requests: Vec::new() }),
            released: watch::Sender::new(false),
        });
        let router = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        LlmMock { shared, addr, server }
    }

    /// The base URL to configure: `http://127.0.0.1:PORT` for Anthropic (requests go to
    /// `/v1/messages`), `http://127.0.0.1:PORT/v1` for OpenAI (to `/v1/chat/completions`).
    pub fn base_url(&self) -> String {
        match self.shared.api {
            Api::Anthropic => format!("http://{}", self.addr),
            Api::OpenAi => format!("http://{}/v1", self.addr),
        }
    }

    /// Queues `reply` for the next request not yet answered, after those already queued.
    pub fn push(&self, reply: Reply) {
        self.shared.script().queue.push_back(reply);
    }

    /// The reply once the queue is empty (initially a 500 saying "no reply scripted").
    pub fn set_default(&self, reply: Reply) {
        self.shared.script().default = reply;
    }

    /// Lets every held request, now and later, answer.
    pub fn release(&self) {
        self.shared.released.send_replace(true);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.script().requests.clone()
    }

    /// The number of requests received so far.
    pub fn count(&self) -> usize {
        self.shared.script().requests.len()
    }
}

impl Drop for LlmMock {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The text of all user messages of a request body, joined by "\n": Anthropic content as a
/// string or `text` blocks, OpenAI content as a string (or `text` parts).
pub fn user_text(body: &Value) -> String {
    let mut texts = Vec::new();
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let is_user = |m: &&Value| m.get("role").and_then(Value::as_str) == Some("user");
    for message in messages.iter().filter(is_user) {
        match message.get("content") {
            Some(Value::String(text)) => texts.push(text.as_str()),
            Some(Value::Array(blocks)) => texts.extend(
                blocks
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|b| b.get("text").and_then(Value::as_str)),
            ),
            _ => {}
        }
    }
    texts.join("\n")
}

/// Records the request, rejects it as the real API would, or answers with the next reply.
async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let api = shared.api;
    let (request, mut reply) = {
        let mut script = shared.script();
        script.requests.push(Recorded {
            path: uri.path().to_owned(),
            headers: headers.clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let request = match validate(api, &shared.key, &method, uri.path(), &headers, &body) {
            Ok(request) => request,
            Err(r) => return error(api, r.status, None, r.kind, &r.message, r.code),
        };
        let reply = script.queue.pop_front().unwrap_or_else(|| script.default.clone());
        (request, reply)
    };
    while let Reply::Held(then) = reply {
        // The sender lives in `shared`, so waiting cannot fail.
        let _ = shared.released.subscribe().wait_for(|released| *released).await;
        reply = *then;
    }
    respond(api, &request, reply)
}

/// Why the real API would refuse a request.
struct Rejection {
    status: u16,
    kind: &'static str,
    message: String,
    /// OpenAI's `error.code`.
    code: Option<&'static str>,
}

/// A check that a required body field has the right JSON type.
type FieldCheck = (&'static str, fn(&Value) -> bool);

/// The parsed body of a request the real API would accept, or why it would refuse it.
fn validate(
    api: Api,
    key: &str,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Rejection> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let reject = |status, kind, message: &str| {
        Err(Rejection { status, kind, message: message.to_owned(), code: None })
    };
    let invalid = "invalid_request_error";
    match api {
        Api::Anthropic => {
            if method != Method::POST || path != "/v1/messages" {
                return reject(404, "not_found_error", "Not Found");
            }
            if header("x-api-key") != Some(key) {
                return reject(401, "authentication_error", "invalid x-api-key");
            }
            if header("anthropic-version").is_none() {
                return reject(400, invalid, "anthropic-version: header is required");
            }
        }
        Api::OpenAi => {
            if method != Method::POST || path != "/v1/chat/completions" {
                return reject(404, invalid, &format!("Invalid URL ({method} {path})"));
            }
            if header("authorization") != Some(format!("Bearer {key}").as_str()) {
                let message = "Incorrect API key provided".to_owned();
                return Err(Rejection {
                    status: 401,
                    kind: invalid,
                    message,
                    code: Some("invalid_api_key"),
                });
            }
        }
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return reject(400, invalid, "The request body is not valid JSON.");
    };
    let required: &[FieldCheck] = match api {
        Api::Anthropic => &[
            ("model", Value::is_string),
            ("max_tokens", Value::is_number),
            ("messages", Value::is_array),
        ],
        Api::OpenAi => &[("model", Value::is_string), ("messages", Value::is_array)],
    };
    for (field, valid) in required {
        if !request.get(field).is_some_and(valid) {
            return reject(400, invalid, &format!("{field}: Field required"));
        }
    }
    Ok(request)
}

/// An error response in `api`'s shape (`code` is OpenAI's `error.code`).
fn error(
    api: Api,
    status: u16,
    retry_after: Option<&str>,
    kind: &str,
    message: &str,
    code: Option<&str>,
) -> Response {
    let body = match api {
        Api::Anthropic => json!({"type": "error", "error": {"type": kind, "message": message}}),
        Api::OpenAi => {
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        }
    };
    let mut response = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
    if let Some(value) = retry_after {
        response.headers_mut().insert("retry-after", HeaderValue::from_str(value).unwrap());
    }
    response
}

/// The response to an accepted `request` for a reply that is no longer held.
fn respond(api: Api, request: &Value, reply: Reply) -> Response {
    let (structured, text) = match reply {
        Reply::Answer(answer) => {
            let value = answer(request);
            let text = value.to_string();
            (Some(value), text)
        }
        Reply::Malformed(text) => (None, text),
        Reply::Error { status, retry_after, kind, message } => {
            return error(api, status, retry_after.as_deref(), &kind, &message, None);
        }
        Reply::Held(then) => return respond(api, request, *then),
    };
    let model = request.get("model").cloned().unwrap_or(Value::Null);
    let input_tokens = request.to_string().len() / 4 + 1;
    let output_tokens = text.len() / 4 + 1;
    let id = uuid::Uuid::new_v4().simple();
    let body = match api {
        Api::Anthropic => {
            let (block, stop_reason) = match structured {
                Some(input) => (
                    json!({"type": "tool_use", "id": format!("toolu_{}", uuid::Uuid::new_v4().simple()),
                        "name": tool_name(request), "input": input}),
                    "tool_use",
                ),
                None => (json!({"type": "text", "text": text}), "end_turn"),
            };
            json!({"id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": stop_reason, "stop_sequence": null,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}})
        }
        Api::OpenAi => {
            let created = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
            json!({"id": format!("chatcmpl-{id}"), "object": "chat.completion", "created": created,
                "model": model, "choices": [{"index": 0, "message": {"role": "assistant",
                    "content": text, "refusal": null}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
                    "total_tokens": input_tokens + output_tokens}})
        }
    };
    (StatusCode::OK, Json(body)).into_response()
}

/// The tool an Anthropic request forces (`tool_choice.name`), else its first tool's name.
fn tool_name(request: &Value) -> String {
    request
        .pointer("/tool_choice/name")
        .or_else(|| request.pointer("/tools/0/name"))
        .and_then(Value::as_str)
        .unwrap_or("answer")
        .to_owned()
}
