//! The gateway every client talks to: it serves the Lambda Invoke API for
//! the project's functions and relays every other request to moto.
//!
//! moto's Step Functions interpreter sends its Lambda calls to
//! `localhost:$MOTO_PORT`, which is this gateway, so Lambda tasks run the
//! real handlers. Function errors are returned as AWS Lambda returns them:
//! HTTP 200 with `X-Amz-Function-Error: Unhandled` and a body of
//! `{"errorType", "errorMessage"}`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tps_core::naming::FunctionKind;
use tps_functions::runtime::Functions;
use tps_functions::Invocation;

use crate::faults::{Fault, FaultInjector};

/// App name the functions' SDK clients send in their User-Agent; only
/// requests that carry it meet injected faults.
pub const FUNCTIONS_APP_NAME: &str = "tps-functions";

const INVOKE_PREFIX: &str = "/2015-03-31/functions/";
const INVOKE_SUFFIX: &str = "/invocations";

type Body = Full<Bytes>;

/// The gateway's state: the functions it runs and the moto it relays to.
pub struct Gateway {
    pub moto_endpoint: String,
    pub functions: Arc<Functions>,
    /// Function name to kind.
    pub function_names: HashMap<String, FunctionKind>,
    pub region: String,
    pub account: String,
    pub faults: Option<Arc<FaultInjector>>,
    pub invocations: AtomicU64,
    client: Client<HttpConnector, Body>,
}

/// Error that makes hyper close the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct DroppedConnection;

impl Gateway {
    pub fn new(
        moto_endpoint: String,
        functions: Arc<Functions>,
        function_names: HashMap<String, FunctionKind>,
        region: String,
        account: String,
        faults: Option<Arc<FaultInjector>>,
    ) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self {
            moto_endpoint,
            functions,
            function_names,
            region,
            account,
            faults,
            invocations: AtomicU64::new(0),
            client,
        }
    }

    /// Serves on every listener until `shutdown` turns true.
    pub async fn serve(self: Arc<Self>, listeners: Vec<TcpListener>, shutdown: watch::Receiver<bool>) {
        let mut tasks = Vec::new();
        for listener in listeners {
            let gateway = self.clone();
            let mut shutdown = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        accepted = listener.accept() => {
                            let Ok((stream, peer)) = accepted else { continue };
                            let gateway = gateway.clone();
                            tokio::spawn(async move { gateway.serve_connection(stream, peer).await });
                        }
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    }

    async fn serve_connection(self: Arc<Self>, stream: tokio::net::TcpStream, _peer: SocketAddr) {
        let service = hyper::service::service_fn(move |request| {
            let gateway = self.clone();
            async move { gateway.route(request).await }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }

    async fn route(&self, request: Request<Incoming>) -> Result<Response<Body>, DroppedConnection> {
        let path = request.uri().path().to_string();
        if request.method() == hyper::Method::POST && path.starts_with(INVOKE_PREFIX) && path.ends_with(INVOKE_SUFFIX) {
            let name = &path[INVOKE_PREFIX.len()..path.len() - INVOKE_SUFFIX.len()];
            return Ok(self.invoke(name, request).await);
        }
        self.relay(request).await
    }

    /// Handles an Invoke call by running the function in process.
    async fn invoke(&self, raw_name: &str, request: Request<Incoming>) -> Response<Body> {
        let decoded = urlencoding::decode(raw_name).map(|s| s.into_owned()).unwrap_or_else(|_| raw_name.to_string());
        let name = function_name(&decoded);
        let Some(kind) = self.function_names.get(name).copied() else {
            let message = format!("Function not found: {decoded}");
            tracing::warn!(function = %decoded, "invoke of an unknown function");
            return json_response(
                StatusCode::NOT_FOUND,
                &[("x-amzn-ErrorType", "ResourceNotFoundException")],
                serde_json::json!({"Type": "User", "message": message}),
            );
        };
        let payload = match request.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(error) => {
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &[],
                    serde_json::json!({"message": format!("cannot read the request body: {error}")}),
                )
            }
        };

        let number = self.invocations.fetch_add(1, Ordering::Relaxed);
        let invocation = Invocation {
            request_id: format!("local-{}-{number:08}", std::process::id()),
            function_arn: format!("arn:aws:lambda:{}:{}:function:{name}", self.region, self.account),
        };
        match self.functions.invoke(kind, &payload, &invocation).await {
            Ok(output) => Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", "application/json")
                .header("X-Amz-Executed-Version", "$LATEST")
                .body(Full::new(Bytes::from(output)))
                .expect("valid response"),
            Err(error) => json_response(
                StatusCode::OK,
                &[("X-Amz-Function-Error", "Unhandled"), ("X-Amz-Executed-Version", "$LATEST")],
                serde_json::json!({"errorType": error.error_type(), "errorMessage": error.to_string()}),
            ),
        }
    }

    /// Relays a request to moto, after injecting any configured fault.
    async fn relay(&self, request: Request<Incoming>) -> Result<Response<Body>, DroppedConnection> {
        let from_functions = [hyper::header::USER_AGENT.as_str(), "x-amz-user-agent"].iter().any(|name| {
            request
                .headers()
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains(&format!("app/{FUNCTIONS_APP_NAME}")))
        });
        if let Some(faults) = self.faults.as_ref().filter(|_| from_functions) {
            if !faults.config.latency.is_zero() {
                tokio::time::sleep(faults.config.latency).await;
            }
            if let Some(fault) = faults.next() {
                tracing::debug!(?fault, path = %request.uri().path(), "injecting fault");
                return match fault {
                    Fault::Drop => Err(DroppedConnection),
                    Fault::Throttle => Ok(throttle_response(&request)),
                    Fault::ServerError => Ok(server_error_response(&request)),
                };
            }
        }

        let (parts, body) = request.into_parts();
        let body = match body.collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => return Err(DroppedConnection),
        };
        let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let uri: hyper::Uri = match format!("{}{path_and_query}", self.moto_endpoint).parse() {
            Ok(uri) => uri,
            Err(_) => return Ok(plain_response(StatusCode::BAD_REQUEST, "invalid request URI")),
        };
        let mut upstream = Request::builder().method(parts.method).uri(uri);
        for (name, value) in &parts.headers {
            upstream = upstream.header(name, value);
        }
        let upstream = upstream.body(Full::new(body)).expect("valid relayed request");

        match self.client.request(upstream).await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                Ok(Response::from_parts(parts, Full::new(body)))
            }
            Err(error) => {
                tracing::warn!(error = %error, "relay to moto failed");
                Ok(plain_response(StatusCode::BAD_GATEWAY, &format!("relay to moto failed: {error}")))
            }
        }
    }
}

/// The function name in an Invoke path segment, which may be a name, a
/// partial ARN or a full ARN, with or without a qualifier.
fn function_name(segment: &str) -> &str {
    let name = match segment.rfind("function:") {
        Some(index) => &segment[index + "function:".len()..],
        None => segment,
    };
    name.split(':').next().unwrap_or(name)
}

fn json_response(status: StatusCode, headers: &[(&str, &str)], body: serde_json::Value) -> Response<Body> {
    let mut builder = Response::builder().status(status).header("Content-Type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(Bytes::from(body.to_string()))).expect("valid response")
}

fn plain_response(status: StatusCode, message: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(message.to_string())))
        .expect("valid response")
}

enum Protocol {
    Json,
    Query,
    RestXml,
}

fn protocol_of<B>(request: &Request<B>) -> Protocol {
    if request.headers().contains_key("x-amz-target") {
        return Protocol::Json;
    }
    let form = request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        Protocol::Query
    } else {
        Protocol::RestXml
    }
}

/// A throttling error in the format of the request's protocol.
fn throttle_response<B>(request: &Request<B>) -> Response<Body> {
    match protocol_of(request) {
        Protocol::Json => json_response(
            StatusCode::BAD_REQUEST,
            &[("x-amzn-ErrorType", "ThrottlingException")],
            serde_json::json!({"__type": "ThrottlingException", "message": "Rate exceeded (injected fault)"}),
        ),
        Protocol::Query => xml_response(
            StatusCode::BAD_REQUEST,
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded (injected fault)</Message></Error><RequestId>injected</RequestId></ErrorResponse>",
        ),
        Protocol::RestXml => xml_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate (injected fault)</Message></Error>",
        ),
    }
}

fn server_error_response<B>(request: &Request<B>) -> Response<Body> {
    match protocol_of(request) {
        Protocol::Json => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &[("x-amzn-ErrorType", "InternalServerError")],
            serde_json::json!({"__type": "InternalServerError", "message": "internal error (injected fault)"}),
        ),
        Protocol::Query => xml_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>internal error (injected fault)</Message></Error><RequestId>injected</RequestId></ErrorResponse>",
        ),
        Protocol::RestXml => xml_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<Error><Code>InternalError</Code><Message>internal error (injected fault)</Message></Error>",
        ),
    }
}

fn xml_response(status: StatusCode, body: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/xml")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid response")
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_name_from_arn_or_name() {
        assert_eq!(function_name("tps-demoteam-Amc-dev"), "tps-demoteam-Amc-dev");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:tps-demoteam-Amc-dev"),
            "tps-demoteam-Amc-dev"
        );
        assert_eq!(function_name("123456789012:function:f:$LATEST"), "f");
    }
}
