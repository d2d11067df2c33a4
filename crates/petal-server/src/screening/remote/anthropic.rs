//! The Anthropic Messages API: the request (the answer forced through one tool whose input
//! schema is the answer's) and where the answer is in the response.

use super::call::BadAnswer;
use petal_screening::engine::remote::{Prompt, TOOL_NAME};
use serde_json::{Value, json};

/// The API version sent in `anthropic-version`.
pub(super) const API_VERSION: &str = "2023-06-01";
/// Room for the answer: a verdict, up to three quotes and a reason per criterion.
const MAX_TOKENS: u32 = 8192;

/// The request body.
pub(super) fn body(model: &str, prompt: &Prompt) -> Value {
    json!({
        "model": model,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "system": prompt.system,
        "messages": [{"role": "user", "content": prompt.user}],
        "tools": [{
            "name": TOOL_NAME,
            "description": "Record one verdict, with exact quotes and a reason, per criterion.",
            "input_schema": prompt.schema,
        }],
        "tool_choice": {"type": "tool", "name": TOOL_NAME},
    })
}

/// The tool input in a response, or why there is none.
pub(super) fn answer(response: &Value) -> Result<Value, BadAnswer> {
    if response.get("stop_reason").and_then(Value::as_str) == Some("max_tokens") {
        return Err(BadAnswer("the answer was cut off"));
    }
    response
        .get("content")
        .and_then(Value::as_array)
        .and_then(|blocks| {
            blocks.iter().find(|block| {
                block.get("type").and_then(Value::as_str) == Some("tool_use")
                    && block.get("name").and_then(Value::as_str) == Some(TOOL_NAME)
            })
        })
        .and_then(|block| block.get("input"))
        .cloned()
        .ok_or(BadAnswer("no tool_use block in the answer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_the_forced_tool_input() {
        let prompt =
            Prompt { system: "s".into(), user: "u".into(), schema: json!({"type": "object"}) };
        let body = body("claude-x", &prompt);
        assert_eq!(body["tool_choice"]["name"], TOOL_NAME);
        assert_eq!(body["temperature"], 0);
        assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
        let response = json!({"content": [{"type": "text", "text": "hm"},
            {"type": "tool_use", "id": "t", "name": TOOL_NAME, "input": {"verdicts": []}}],
            "stop_reason": "tool_use"});
        assert_eq!(answer(&response).unwrap(), json!({"verdicts": []}));
        assert!(answer(&json!({"content": [{"type": "text", "text": "{}"}]})).is_err());
        assert!(answer(&json!({"content": [], "stop_reason": "max_tokens"})).is_err());
    }
}
