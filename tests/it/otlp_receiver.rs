//! An OTLP receiver on 127.0.0.1 for tests: http/protobuf (axum) or gRPC (tonic), decoding
//! with the opentelemetry-proto types and keeping what arrives (capped) for assertions.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// Most spans kept: a test that floods the receiver must not grow it without bound.
const MAX_SPANS: usize = 10_000;

/// A metric data point as received: name, attributes, and its count or value.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    /// A histogram's count, a sum's or gauge's value.
    pub value: f64,
}

/// What the receiver got.
#[derive(Debug, Default)]
pub(crate) struct Received {
    pub spans: Vec<Span>,
    /// The latest export's points (cumulative: each export carries the totals).
    pub points: Vec<Point>,
    /// Resource attributes of the last metrics export.
    pub resource: BTreeMap<String, String>,
    /// Resource attributes of the last span export (kept apart: each provider sends its own).
    pub span_resource: BTreeMap<String, String>,
    /// Headers (HTTP) or metadata (gRPC) of the last request.
    pub headers: BTreeMap<String, String>,
}

pub(crate) type Shared = Arc<Mutex<Received>>;

pub(crate) fn attrs(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                Some(any_value::Value::DoubleValue(d)) => d.to_string(),
                Some(any_value::Value::BoolValue(b)) => b.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn take_traces(
    shared: &Shared,
    request: ExportTraceServiceRequest,
    headers: BTreeMap<String, String>,
) {
    let mut got = shared.lock().unwrap();
    got.headers = headers;
    for rs in request.resource_spans {
        if let Some(r) = &rs.resource {
            got.span_resource = attrs(&r.attributes);
        }
        for ss in rs.scope_spans {
            let room = MAX_SPANS.saturating_sub(got.spans.len());
            got.spans.extend(ss.spans.into_iter().take(room));
        }
    }
}

fn take_metrics(
    shared: &Shared,
    request: ExportMetricsServiceRequest,
    headers: BTreeMap<String, String>,
) {
    let mut points = Vec::new();
    let mut resource = BTreeMap::new();
    for rm in request.resource_metrics {
        if let Some(r) = &rm.resource {
            resource = attrs(&r.attributes);
        }
        for sm in rm.scope_metrics {
            for m in sm.metrics {
                points.extend(points_of(&m.name, m.data.as_ref()));
            }
        }
    }
    let mut got = shared.lock().unwrap();
    got.headers = headers;
    got.resource = resource;
    got.points = points;
}

fn points_of(name: &str, data: Option<&Data>) -> Vec<Point> {
    use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as N;
    let number = |v: &Option<N>| match v {
        Some(N::AsDouble(d)) => *d,
        Some(N::AsInt(i)) => *i as f64,
        None => f64::NAN,
    };
    let point = |a: &[KeyValue], value| Point {
        name: name.to_string(),
        attrs: attrs(a),
        value,
    };
    match data {
        Some(Data::Histogram(h)) => (h.data_points.iter())
            .map(|p| point(&p.attributes, p.count as f64))
            .collect(),
        Some(Data::Sum(s)) => (s.data_points.iter())
            .map(|p| point(&p.attributes, number(&p.value)))
            .collect(),
        Some(Data::Gauge(g)) => (g.data_points.iter())
            .map(|p| point(&p.attributes, number(&p.value)))
            .collect(),
        _ => Vec::new(),
    }
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    (headers.iter())
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect()
}

/// An http/protobuf receiver (`POST /v1/traces`, `POST /v1/metrics`); its base URL.
pub(crate) async fn http(shared: Shared) -> String {
    async fn traces(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Vec<u8> {
        let request = ExportTraceServiceRequest::decode(body).expect("OTLP traces decode");
        take_traces(&s, request, header_map(&headers));
        ExportTraceServiceResponse::default().encode_to_vec()
    }
    async fn metrics(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Vec<u8> {
        let request = ExportMetricsServiceRequest::decode(body).expect("OTLP metrics decode");
        take_metrics(&s, request, header_map(&headers));
        ExportMetricsServiceResponse::default().encode_to_vec()
    }
    let app = axum::Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/metrics", post(metrics))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The gRPC services, over the same store.
#[derive(Clone)]
struct Grpc(Shared);

fn metadata(m: &tonic::metadata::MetadataMap) -> BTreeMap<String, String> {
    header_map(&m.clone().into_headers())
}

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = metadata(request.metadata());
        take_traces(&self.0, request.into_inner(), headers);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let headers = metadata(request.metadata());
        take_metrics(&self.0, request.into_inner(), headers);
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// A gRPC receiver; its URL.
pub(crate) fn grpc(shared: Shared) -> String {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::bind(addr).unwrap();
    let addr = incoming.local_addr().unwrap();
    let grpc = Grpc(shared);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(grpc.clone()))
            .add_service(MetricsServiceServer::new(grpc))
            .serve_with_incoming(incoming),
    );
    format!("http://{addr}")
}
