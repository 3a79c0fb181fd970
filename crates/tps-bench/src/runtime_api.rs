//! A minimal Lambda Runtime API on 127.0.0.1 that delivers one invocation
//! and records when the runtime requests it and when it responds.
//!
//! It serves the four routes a runtime calls: `GET .../invocation/next`,
//! `POST .../invocation/{id}/response`, `POST .../invocation/{id}/error` and
//! `POST .../init/error`. The first `next` returns the invocation. Every
//! later `next` stays open until the server stops, as Lambda keeps it open
//! while no event is pending, so a runtime that requests again is idle.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// How long the function may run, announced in `Lambda-Runtime-Deadline-Ms`.
const DEADLINE: Duration = Duration::from_secs(60);

/// The one invocation the server delivers.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub function_arn: String,
    pub payload: Bytes,
}

/// The runtime's response, error or init error, with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(String),
    Error(String),
    InitError(String),
}

impl Outcome {
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Response(_) => "response",
            Outcome::Error(_) => "error",
            Outcome::InitError(_) => "init error",
        }
    }

    pub fn body(&self) -> &str {
        match self {
            Outcome::Response(body) | Outcome::Error(body) | Outcome::InitError(body) => body,
        }
    }
}

/// Requests the server has received so far.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Arrival of the first `next` request.
    pub first_next: Option<Instant>,
    /// Number of `next` requests.
    pub next_requests: u32,
    /// Arrival of the first response or error, and what it was.
    pub outcome: Option<(Instant, Outcome)>,
}

impl Observed {
    /// Returns whether the runtime responded and then requested the next event.
    pub fn is_idle(&self) -> bool {
        self.outcome.is_some() && self.next_requests >= 2
    }

    /// Returns whether the runtime reported a failed initialization.
    pub fn init_failed(&self) -> bool {
        matches!(self.outcome, Some((_, Outcome::InitError(_))))
    }
}

/// A running Runtime API server. Dropping it stops the server.
pub struct RuntimeApi {
    pub address: SocketAddr,
    observed: Arc<Mutex<Observed>>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Shared {
    invocation: Invocation,
    observed: Arc<Mutex<Observed>>,
    shutdown: watch::Receiver<bool>,
}

impl RuntimeApi {
    /// Listens on a free port of 127.0.0.1 and serves `invocation`.
    pub async fn start(invocation: Invocation) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("cannot listen on 127.0.0.1")?;
        let address = listener.local_addr()?;
        let observed = Arc::new(Mutex::new(Observed::default()));
        let (shutdown, shutdown_signal) = watch::channel(false);
        let shared = Arc::new(Shared { invocation, observed: observed.clone(), shutdown: shutdown_signal });
        let task = tokio::spawn(accept_loop(listener, shared));
        Ok(Self { address, observed, shutdown, task })
    }

    /// Returns the value of `AWS_LAMBDA_RUNTIME_API`: host and port.
    pub fn host_port(&self) -> String {
        self.address.to_string()
    }

    pub fn observed(&self) -> Observed {
        self.observed.lock().expect("observed lock").clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { Ok::<_, std::convert::Infallible>(route(&shared, request).await) }
                    });
                    // A killed runtime drops its connection mid-request; that is expected.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();

    if method == Method::GET && path == NEXT_PATH {
        return next(shared, arrived).await;
    }
    if method == Method::POST && path == INIT_ERROR_PATH {
        let body = read_body(request).await;
        record_outcome(shared, arrived, Outcome::InitError(body));
        return accepted();
    }
    if method == Method::POST {
        if let Some(rest) = path.strip_prefix(INVOCATION_PREFIX) {
            let body = read_body(request).await;
            if rest.ends_with("/response") {
                record_outcome(shared, arrived, Outcome::Response(body));
                return accepted();
            }
            if rest.ends_with("/error") {
                record_outcome(shared, arrived, Outcome::Error(body));
                return accepted();
            }
        }
    }
    plain(StatusCode::NOT_FOUND, format!("no route for {method} {path}"))
}

async fn next(shared: &Shared, arrived: Instant) -> Response<Full<Bytes>> {
    let first = {
        let mut observed = shared.observed.lock().expect("observed lock");
        observed.next_requests += 1;
        if observed.first_next.is_none() {
            observed.first_next = Some(arrived);
            true
        } else {
            false
        }
    };
    if !first {
        // Hold the request: no further event comes.
        let mut shutdown = shared.shutdown.clone();
        let _ = shutdown.wait_for(|stopped| *stopped).await;
        return plain(StatusCode::GONE, "the benchmark's runtime API stopped".into());
    }

    let deadline_ms = (SystemTime::now() + DEADLINE).duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let invocation = &shared.invocation;
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", &invocation.request_id)
        .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", &invocation.function_arn)
        .header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
        .body(Full::new(invocation.payload.clone()))
        .expect("a valid response")
}

fn record_outcome(shared: &Shared, arrived: Instant, outcome: Outcome) {
    let mut observed = shared.observed.lock().expect("observed lock");
    if observed.outcome.is_none() {
        observed.outcome = Some((arrived, outcome));
    }
}

async fn read_body(request: Request<Incoming>) -> String {
    match request.into_body().collect().await {
        Ok(body) => String::from_utf8_lossy(&body.to_bytes()).into_owned(),
        Err(error) => format!("(the request body could not be read: {error})"),
    }
}

fn accepted() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"status":"OK"}"#)))
        .expect("a valid response")
}

fn plain(status: StatusCode, message: String) -> Response<Full<Bytes>> {
    Response::builder().status(status).body(Full::new(Bytes::from(message))).expect("a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Empty;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    fn invocation() -> Invocation {
        Invocation {
            request_id: "req-1".into(),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            payload: Bytes::from_static(br#"{"hello":"world"}"#),
        }
    }

    #[tokio::test]
    async fn delivers_one_invocation_and_records_response() {
        let api = RuntimeApi::start(invocation()).await.unwrap();
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let base = format!("http://{}", api.host_port());

        let next = client.get(format!("{base}{NEXT_PATH}").parse().unwrap()).await.unwrap();
        assert_eq!(next.status(), StatusCode::OK);
        assert_eq!(next.headers()["lambda-runtime-aws-request-id"], "req-1");
        assert!(next.headers().contains_key("lambda-runtime-deadline-ms"));
        assert_eq!(
            next.headers()["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        let body = next.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"hello":"world"}"#);

        let post = Request::post(format!("{base}{INVOCATION_PREFIX}req-1/response"))
            .body(Full::new(Bytes::from_static(b"\"done\"")))
            .unwrap();
        let answer = client.request(post).await.unwrap();
        assert_eq!(answer.status(), StatusCode::ACCEPTED);

        let observed = api.observed();
        assert!(observed.first_next.is_some());
        assert_eq!(observed.outcome.as_ref().map(|(_, o)| o.clone()), Some(Outcome::Response("\"done\"".into())));
        assert!(!observed.is_idle());
    }

    #[tokio::test]
    async fn second_next_is_held_and_marks_idle() {
        let api = RuntimeApi::start(invocation()).await.unwrap();
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let next_url: hyper::Uri = format!("http://{}{NEXT_PATH}", api.host_port()).parse().unwrap();
        client.get(next_url.clone()).await.unwrap();
        let error = Request::post(format!("http://{}{INVOCATION_PREFIX}req-1/error", api.host_port()))
            .body(Empty::new())
            .unwrap();
        client.request(error).await.unwrap();

        let held = tokio::spawn({
            let client = client.clone();
            async move { client.get(next_url).await }
        });
        for _ in 0..200 {
            if api.observed().next_requests >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let observed = api.observed();
        assert!(observed.is_idle());
        assert_eq!(observed.outcome.unwrap().1.kind(), "error");
        assert!(!held.is_finished(), "the second next must not be answered");
        drop(api);
        held.abort();
    }

    #[tokio::test]
    async fn init_error_is_recorded() {
        let api = RuntimeApi::start(invocation()).await.unwrap();
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let post = Request::post(format!("http://{}{INIT_ERROR_PATH}", api.host_port()))
            .body(Full::new(Bytes::from_static(b"{\"errorMessage\":\"boom\"}")))
            .unwrap();
        client.request(post).await.unwrap();
        assert!(api.observed().init_failed());
    }
}
