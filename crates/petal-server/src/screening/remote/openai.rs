//! OpenAI-compatible chat completions: the request (a strict JSON-schema response format)
//! and the answer in the first choice's message.

use super::call::BadAnswer;
use petal_screening::engine::remote::{Prompt, TOOL_NAME};
use serde_json::{Value, json};

/// The request body.
pub(super) fn body(model: &str, prompt: &Prompt) -> Value {
    json!({
        "model": model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": TOOL_NAME, "strict": true, "schema": prompt.schema},
        },
    })
}

/// The JSON answer in a response, or why there is none.
pub(super) fn answer(response: &Value) -> Result<Value, BadAnswer> {
    let choice = response
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or(BadAnswer("no choice in the answer"))?;
    if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
        return Err(BadAnswer("the answer was cut off"));
    }
    let message = choice.get("message").ok_or(BadAnswer("no message in the answer"))?;
    if message.get("refusal").is_some_and(|r| !r.is_null()) {
        return Err(BadAnswer("the model refused"));
    }
    let content = message
        .get("content")
        .and_then(Value::as_str)
        .ok_or(BadAnswer("no content in the answer"))?;
    serde_json::from_str(content).map_err(|_| BadAnswer("the content is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_the_json_content_of_the_first_choice() {
        let prompt =
            Prompt { system: "s".into(), user: "u".into(), schema: json!({"type": "object"}) };
        let body = body("local-model", &prompt);
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(body["messages"][1]["content"], "u");
        let ok = json!({"choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "{\"verdicts\": []}", "refusal": null}}]});
        assert_eq!(answer(&ok).unwrap(), json!({"verdicts": []}));
        let not_json = json!({"choices": [{"message": {"content": "verdicts: all met"}}]});
        assert!(answer(&not_json).is_err());
        let refused = json!({"choices": [{"message": {"content": null, "refusal": "no"}}]});
        assert!(answer(&refused).is_err());
        assert!(answer(&json!({"choices": []})).is_err());
    }
}
