//! A small JSON-RPC 2.0 client written from the spec (not from the server's
//! code): it spawns the real `errand serve`, frames requests with
//! Content-Length headers (as LSP clients do) or as JSON lines, and sorts
//! what comes back into responses and notifications.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    Lines,
}

pub struct Client {
    pub child: Child,
    stdin: Option<ChildStdin>,
    framing: Framing,
    next_id: u64,
    incoming: Receiver<Value>,
    /// Responses that arrived while waiting for another one.
    responses: HashMap<String, Value>,
    /// Notifications not yet taken, in arrival order.
    pub notifications: Vec<Value>,
    /// Every message the server sent, for schema validation.
    pub traffic: Vec<Value>,
    /// method of each request id, to pair responses with methods.
    pub methods_by_id: HashMap<String, String>,
}

pub const TIMEOUT: Duration = Duration::from_secs(20);

impl Client {
    pub fn spawn(mut cmd: Command, framing: Framing) -> Client {
        let mut child = cmd
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn errand serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || read_messages(stdout, framing, tx));
        Client {
            stdin: child.stdin.take(),
            child,
            framing,
            next_id: 1,
            incoming: rx,
            responses: HashMap::new(),
            notifications: Vec::new(),
            traffic: Vec::new(),
            methods_by_id: HashMap::new(),
        }
    }

    /// Send raw bytes as one frame body (framed as this client frames).
    pub fn send_body(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        match self.framing {
            Framing::ContentLength => {
                write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
                stdin.write_all(body).unwrap();
            }
            Framing::Lines => {
                stdin.write_all(body).unwrap();
                stdin.write_all(b"\n").unwrap();
            }
        }
        stdin.flush().unwrap();
    }

    /// Bytes exactly as given, no framing added.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send_request(&mut self, method: &str, params: Value) -> Value {
        let id = json!(self.next_id);
        self.next_id += 1;
        self.methods_by_id.insert(id.to_string(), method.to_owned());
        let msg = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        self.send_body(msg.to_string().as_bytes());
        id
    }

    /// A request and its whole response (result or error).
    pub fn call_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.wait_response(&id)
    }

    /// A request that must succeed: its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let r = self.call_raw(method, params.clone());
        assert!(r.get("error").is_none(), "{method} {params} failed: {r}");
        r["result"].clone()
    }

    /// A request that must fail: its error object.
    pub fn call_err(&mut self, method: &str, params: Value) -> Value {
        let r = self.call_raw(method, params.clone());
        assert!(r.get("result").is_none(), "{method} {params} should have failed: {r}");
        r["error"].clone()
    }

    fn pump(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(msg) => {
                self.traffic.push(msg.clone());
                if msg.get("method").is_some() && msg.get("id").is_none() {
                    self.notifications.push(msg);
                } else {
                    self.responses.insert(msg["id"].to_string(), msg);
                }
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its stdout"),
        }
    }

    pub fn wait_response(&mut self, id: &Value) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(r) = self.responses.remove(&id.to_string()) {
                return r;
            }
            assert!(self.pump(deadline), "no response to request {id} within {TIMEOUT:?}");
        }
    }

    /// The next message of any kind, or None after `wait`.
    pub fn next_message(&mut self, wait: Duration) -> Option<Value> {
        match self.incoming.recv_timeout(wait) {
            Ok(msg) => {
                self.traffic.push(msg.clone());
                Some(msg)
            }
            Err(_) => None,
        }
    }

    /// Take the first notification of `method` matching `pred`, waiting for it.
    pub fn notification(&mut self, method: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self.notifications.iter().position(|n| n["method"] == method && pred(&n["params"])) {
                return self.notifications.remove(i)["params"].clone();
            }
            assert!(self.pump(deadline), "no {method} notification within {TIMEOUT:?}; got {:?}", self.notifications);
        }
    }

    /// Close stdin (as an editor quitting does).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Wait for the process to exit; its status code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parse the server's stdout into messages. Anything that is not a
/// well-formed frame of JSON fails the test (through a Null sentinel).
fn read_messages(stdout: impl Read, framing: Framing, tx: mpsc::Sender<Value>) {
    let mut r = BufReader::new(stdout);
    loop {
        let body = match framing {
            Framing::Lines => {
                let mut line = Vec::new();
                if r.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                    return;
                }
                line
            }
            Framing::ContentLength => {
                let mut len = None;
                loop {
                    let mut header = String::new();
                    if r.read_line(&mut header).unwrap_or(0) == 0 {
                        return;
                    }
                    let h = header.trim_end_matches(['\r', '\n']);
                    if h.is_empty() {
                        break;
                    }
                    let (name, value) = h.split_once(": ").expect("header is 'Name: value'");
                    if name.eq_ignore_ascii_case("Content-Length") {
                        len = Some(value.parse::<usize>().expect("numeric Content-Length"));
                    }
                    assert!(header.ends_with("\r\n"), "headers end with CRLF");
                }
                let mut body = vec![0u8; len.expect("Content-Length header")];
                r.read_exact(&mut body).expect("a whole body");
                body
            }
        };
        let msg: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("server sent invalid JSON ({e}): {:?}", String::from_utf8_lossy(&body)));
        if tx.send(msg).is_err() {
            return;
        }
    }
}

/// Is this a well-formed JSON-RPC 2.0 response (not a notification)?
pub fn assert_valid_response(msg: &Value) {
    assert_eq!(msg["jsonrpc"], "2.0", "{msg}");
    let obj = msg.as_object().unwrap();
    assert!(obj.contains_key("id"), "{msg}");
    assert!(msg["id"].is_null() || msg["id"].is_u64() || msg["id"].is_string(), "{msg}");
    match (obj.get("result"), obj.get("error")) {
        (Some(_), None) => {}
        (None, Some(e)) => {
            assert!(e["code"].is_i64(), "{msg}");
            assert!(e["message"].is_string(), "{msg}");
        }
        _ => panic!("exactly one of result and error: {msg}"),
    }
}
