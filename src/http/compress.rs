//! Response compression: tower-http's `Compression` (brotli or gzip, bodies above 1 KiB)
//! outside everything else, the response cache included. A request without
//! `Accept-Encoding` goes around it: its answer would leave as it is anyway, and the layer's
//! body wrapper, predicate and response moves would still cost every such request (API
//! clients, scripts and probes send none). Those answers get the same `Vary` the layer adds.
//! Answers that chose their coding already (the caches' representations, marked
//! [`Negotiated`]) pass through as they are, identity included.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures::future::{Either, MapOk};
use futures::TryFutureExt as _;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use tower_http::compression::predicate::{And, DefaultPredicate, Predicate as _, SizeAbove};
use tower_http::compression::{Compression, CompressionBody, CompressionLayer, ResponseFuture};

/// Which answers are compressed: tower-http's defaults (not images, not gRPC, not SSE, not
/// tiny), only bodies above 1 KiB, and none whose coding was negotiated already.
type Worthwhile = And<And<SizeAbove, DefaultPredicate>, NotNegotiated>;

fn worthwhile() -> Worthwhile {
    // The size first: most answers are decided by it, before any content-type comparison.
    SizeAbove::new(1024)
        .and(DefaultPredicate::new())
        .and(NotNegotiated)
}

/// A response extension: the answer is the representation `Accept-Encoding` chose (see
/// `cache::coding`), identity included, and must not be compressed again.
#[derive(Clone, Copy, Debug)]
pub struct Negotiated;

#[derive(Clone, Copy, Debug)]
pub struct NotNegotiated;

impl tower_http::compression::Predicate for NotNegotiated {
    fn should_compress<B>(&self, response: &http::Response<B>) -> bool
    where
        B: http_body::Body,
    {
        response.extensions().get::<Negotiated>().is_none()
    }
}

#[derive(Clone)]
pub struct CompressLayer(CompressionLayer<Worthwhile>);

impl Default for CompressLayer {
    fn default() -> Self {
        Self(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .compress_when(worthwhile()),
        )
    }
}

impl<S: Clone> Layer<S> for CompressLayer {
    type Service = Compress<S>;

    fn layer(&self, inner: S) -> Compress<S> {
        Compress {
            compressed: self.0.layer(inner.clone()),
            plain: inner,
        }
    }
}

#[derive(Clone)]
pub struct Compress<S> {
    plain: S,
    compressed: Compression<S, Worthwhile>,
}

type Boxed = fn(Response<CompressionBody<Body>>) -> Response;
type PlainFuture<F> = MapOk<F, fn(Response) -> Response>;

impl<S> Service<Request> for Compress<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<PlainFuture<S::Future>, MapOk<ResponseFuture<S::Future, Worthwhile>, Boxed>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        std::task::ready!(self.plain.poll_ready(cx))?;
        self.compressed.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(header::ACCEPT_ENCODING) {
            Either::Right(self.compressed.call(request).map_ok(boxed as Boxed))
        } else {
            Either::Left(
                self.plain
                    .call(request)
                    .map_ok(vary as fn(Response) -> Response),
            )
        }
    }
}

fn boxed(response: Response<CompressionBody<Body>>) -> Response {
    response.map(Body::new)
}

/// The answer depends on `Accept-Encoding` wherever the layer would have compressed it.
fn vary(mut response: Response) -> Response {
    let named = |v: &HeaderValue| {
        v.as_bytes()
            .split(|b| *b == b',')
            .any(|name| name.trim_ascii().eq_ignore_ascii_case(b"accept-encoding"))
    };
    if worthwhile().should_compress(&response)
        && !response.headers().get_all(header::VARY).iter().any(named)
    {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}
