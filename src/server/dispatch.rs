//! One incoming message to its answer, by JSON-RPC 2.0 rules: a request is
//! answered, a notification is carried out and not answered, a batch gets
//! an array of the answers (none if it held only notifications), and what
//! is not a request gets -32700 or -32600. Requests are parsed into
//! jsonrpsee's own types and run through its `Methods`.

use jsonrpsee::core::server::MethodResponse;
use jsonrpsee::types::{ErrorObjectOwned, Id, Params};
use jsonrpsee::{ConnectionId, Extensions, MethodCallback, Methods};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::transport::{Incoming, MAX_FRAME};
use crate::protocol::ErrorCode;

/// Responses can be larger than requests (a big output read).
const MAX_RESPONSE: usize = 256 << 20;
/// The answers to one batch together: a batch of big reads is refused
/// rather than held in memory at once.
const MAX_BATCH_RESPONSE: usize = 8 << 20;

/// The answer to send, if any.
pub async fn handle(methods: &Methods, incoming: Incoming) -> Option<Box<RawValue>> {
    match incoming {
        Incoming::Malformed(message) => Some(refuse(Id::Null, ErrorCode::ParseError.with(message, None))),
        Incoming::TooLarge { id, len } => {
            let message = format!("request of {len} bytes is over the limit of {MAX_FRAME} bytes; it was skipped");
            let error = ErrorCode::RequestTooLarge.with(message, None);
            match id.as_deref().and_then(id_of) {
                Some((id, raw)) => Some(restore_id(refuse(id, error), raw)),
                None => Some(refuse(Id::Null, error)),
            }
        }
        Incoming::Message(bytes) if is_batch(&bytes) => batch(methods, &bytes).await,
        Incoming::Message(bytes) => one(methods, &bytes).await,
    }
}

/// Is this message a request to `initialize`?
pub fn is_initialize(incoming: &Incoming) -> bool {
    matches!(incoming, Incoming::Message(bytes)
        if serde_json::from_slice::<Envelope>(bytes).is_ok_and(|e| e.method.is_some_and(|m| m.get() == "\"initialize\"")))
}

/// Can the answer be large (output, tails, pages of tasks, a batch)? Such
/// requests take a large-answer slot of the budget.
pub fn may_answer_large(incoming: &Incoming) -> bool {
    match incoming {
        Incoming::Message(bytes) if is_batch(bytes) => true,
        Incoming::Message(bytes) => serde_json::from_slice::<Envelope>(bytes).is_ok_and(|e| {
            e.method.is_some_and(|m| matches!(m.get(), r#""task/output""# | r#""task/get""# | r#""task/list""#))
        }),
        _ => false,
    }
}

fn refuse(id: Id<'_>, error: ErrorObjectOwned) -> Box<RawValue> {
    MethodResponse::error(id, error).into_json()
}

fn is_batch(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

async fn batch(methods: &Methods, bytes: &[u8]) -> Option<Box<RawValue>> {
    let items = match serde_json::from_slice::<Batch>(bytes) {
        Ok(Batch(items)) => items,
        Err(e) if serde_json::from_slice::<IgnoredAny>(bytes).is_ok() => {
            return Some(refuse(Id::Null, ErrorCode::InvalidRequest.with(format!("invalid request: {e}"), None)));
        }
        Err(e) => return Some(refuse(Id::Null, ErrorCode::ParseError.with(format!("parse error: {e}"), None))),
    };
    if items.is_empty() {
        return Some(refuse(Id::Null, ErrorCode::InvalidRequest.with("empty batch", None)));
    }
    let mut answers = String::from("[");
    for item in items {
        if let Some(answer) = one(methods, item.get().as_bytes()).await {
            if answers.len() + answer.get().len() > MAX_BATCH_RESPONSE {
                let message = format!(
                    "the answers to this batch are over {MAX_BATCH_RESPONSE} bytes: send fewer requests at once"
                );
                return Some(refuse(Id::Null, ErrorCode::InvalidRequest.with(message, None)));
            }
            if answers.len() > 1 {
                answers.push(',');
            }
            answers.push_str(answer.get());
        }
    }
    answers.push(']');
    // Only notifications: no answer at all.
    (answers.len() > 2).then(|| RawValue::from_string(answers).ok()).flatten()
}

/// Requests in one batch, at most: a 16 MiB frame of `[1,1,1,…]` would
/// otherwise be eight million items held at once.
const MAX_BATCH: usize = 10_000;

/// A batch's items as written, refused past `MAX_BATCH` while reading.
struct Batch<'a>(Vec<&'a RawValue>);

impl<'de> Deserialize<'de> for Batch<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Items;
        impl<'de> serde::de::Visitor<'de> for Items {
            type Value = Batch<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an array of at most {MAX_BATCH} requests")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&RawValue>()? {
                    if items.len() == MAX_BATCH {
                        return Err(serde::de::Error::custom(format!("a batch of more than {MAX_BATCH} requests")));
                    }
                    items.push(item);
                }
                Ok(Batch(items))
            }
        }
        d.deserialize_seq(Items)
    }
}

/// A message's members as written. Parsed here rather than by jsonrpsee's
/// `Request`, whose ids are only u64 and strings: JSON-RPC 2.0 allows any
/// number, and the answer must carry the id exactly as sent.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
}

/// A member that is there, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// A request's id for jsonrpsee, and the text to put back in the answer
/// when jsonrpsee cannot hold it (a negative, fractional or huge number).
/// None: not a valid id (an object, an array, a boolean).
fn id_of(raw: &str) -> Option<(Id<'static>, Option<String>)> {
    match serde_json::from_str::<Value>(raw).ok()? {
        Value::Null => Some((Id::Null, None)),
        Value::String(s) => Some((Id::Str(s.into()), None)),
        Value::Number(n) => match n.as_u64() {
            Some(n) if n.to_string() == raw.trim() => Some((Id::Number(n), None)),
            _ => Some((Id::Str(stand_in().into()), Some(raw.trim().to_owned()))),
        },
        _ => None,
    }
}

/// A string no client sends as an id, standing in for one jsonrpsee cannot hold.
fn stand_in() -> &'static str {
    static STAND_IN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STAND_IN.get_or_init(|| format!("errand-id-{:016x}", crate::sys::random_u64()))
}

/// Put the id back into an answer as the client wrote it.
fn restore_id(answer: Box<RawValue>, raw: Option<String>) -> Box<RawValue> {
    let Some(raw) = raw else { return answer };
    let text = answer.get().replacen(&format!("\"{}\"", stand_in()), &raw, 1);
    RawValue::from_string(text).unwrap_or(answer)
}

/// One request or notification.
async fn one(methods: &Methods, bytes: &[u8]) -> Option<Box<RawValue>> {
    let invalid =
        |id: Id<'_>, what: &str| refuse(id, ErrorCode::InvalidRequest.with(format!("invalid request: {what}"), None));
    // serde would also read an array as the struct, by position.
    let is_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let envelope = match serde_json::from_slice::<Envelope>(bytes) {
        Ok(_) if !is_object => return Some(invalid(Id::Null, "not an object")),
        Ok(envelope) => envelope,
        // Valid JSON at all? Checked without building it (a 16 MiB array would take 20 times that).
        Err(_) if serde_json::from_slice::<IgnoredAny>(bytes).is_ok() => {
            return Some(invalid(Id::Null, "not an object"));
        }
        Err(e) => return Some(refuse(Id::Null, ErrorCode::ParseError.with(format!("parse error: {e}"), None))),
    };
    let (id, raw_id) = match envelope.id.map(|raw| id_of(raw.get())) {
        None => (None, None),
        Some(Some((id, raw))) => (Some(id), raw),
        Some(None) => return Some(invalid(Id::Null, "an id is a string, a number or null")),
    };
    let answer =
        |id: Option<Id<'static>>, error: ErrorObjectOwned| id.map(|id| restore_id(refuse(id, error), raw_id.clone()));
    if envelope.jsonrpc.map(RawValue::get) != Some("\"2.0\"") {
        return answer(
            id.or(Some(Id::Null)),
            ErrorCode::InvalidRequest.with("invalid request: jsonrpc must be \"2.0\"", None),
        );
    }
    let Some(method) = envelope.method.and_then(|m| serde_json::from_str::<String>(m.get()).ok()) else {
        return answer(
            id.or(Some(Id::Null)),
            ErrorCode::InvalidRequest.with("invalid request: method must be a string", None),
        );
    };
    let params = match envelope.params.map(|p| p.get().trim_start().as_bytes().first().copied()) {
        None | Some(Some(b'{' | b'[' | b'n')) => params_of(envelope.params),
        Some(_) => {
            let error = ErrorCode::InvalidRequest.with("invalid request: params must be an object or an array", None);
            return answer(id.or(Some(Id::Null)), error);
        }
    };
    match id {
        Some(id) => Some(restore_id(call(methods, &method, id, params).await.into_json(), raw_id)),
        None => {
            // A notification gets no answer, not even an error.
            call(methods, &method, Id::Null, params).await;
            None
        }
    }
}

/// Params as jsonrpsee's methods take them (owned: a method may outlive the frame).
fn params_of(raw: Option<&RawValue>) -> Params<'static> {
    Params::new(raw.map(RawValue::get)).into_owned()
}

async fn call(methods: &Methods, method: &str, id: Id<'static>, params: Params<'static>) -> MethodResponse {
    match methods.method_with_name(method) {
        Some((_, MethodCallback::Async(f))) => f(id, params, ConnectionId(0), MAX_RESPONSE, Extensions::new()).await,
        Some((_, MethodCallback::Sync(f))) => f(id, params, MAX_RESPONSE, Extensions::new()),
        _ => {
            let name: String = method.chars().take(100).collect();
            MethodResponse::error(id, ErrorCode::MethodNotFound.with(format!("no method '{name}'"), None))
        }
    }
}
