//! The exact-URL fast path for the public catalog reads, in front of the middleware stack.
//!
//! A cached page is a few kilobytes of bytes that were already serialized, yet answering it
//! through the whole stack (path normalization, routing, query parsing, filter and link
//! building, the canonical cache key) cost about three times what a bare handler costs. So the
//! answer a catalog handler gave is also remembered under the request's exact URL (scheme, host,
//! path, raw query) and the catalog generation read before the handler ran; the next request for
//! that URL is answered here with those bytes and the headers every response carries. The
//! generation in the key gives these entries the same invalidation as the canonical ones.
//! Only answers a handler chose to remember (200s of public, user-independent reads) are here.
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{
    HeaderName, HeaderValue, CONTENT_TYPE, FORWARDED, HOST, X_FORWARDED_HOST, X_FORWARDED_PROTO,
};
use actix_web::http::Method;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::future::{ready, Either, LocalBoxFuture, Ready};
use std::rc::Rc;
use std::time::Instant;

use super::metrics::{Metrics, RouteOk};
use super::request_id;
use super::SECURITY_HEADERS;
use crate::services::catalog::{Catalog, UrlKey};

/// The route patterns (as the router names them in metrics) whose answers may be remembered.
const ROUTES: [&str; 4] = [
    "/api/products",
    "/api/products/{id}",
    "/api/categories",
    "/api/categories/{id}",
];

/// Which of `ROUTES` a raw path is, if any: `/api/products` or `/api/products/` is the list,
/// `/api/products/{one segment}` with an optional trailing slash the detail. Anything else
/// (double slashes included) takes the normal path.
fn route_of(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("/api/")?;
    let (collection, rest) = match rest.split_once('/') {
        Some((collection, rest)) => (collection, rest),
        None => (rest, ""),
    };
    let base = match collection {
        "products" => 0,
        "categories" => 2,
        _ => return None,
    };
    if rest.is_empty() {
        return Some(base);
    }
    let id = rest.strip_suffix('/').unwrap_or(rest);
    (!id.is_empty() && !id.contains('/')).then_some(base + 1)
}

/// The host of a request that names no scheme and carries no forwarding header: for it
/// `ConnectionInfo` resolves to `http://{Host}` (this server speaks no TLS itself), and building
/// one costs more than the rest of the lookup. Any other request gets `ConnectionInfo`'s answer.
fn plain_host(req: &ServiceRequest) -> Option<&str> {
    let headers = req.headers();
    let forwarded = [FORWARDED, X_FORWARDED_PROTO, X_FORWARDED_HOST];
    if req.uri().scheme().is_some() || forwarded.iter().any(|name| headers.contains_key(name)) {
        return None;
    }
    headers.get(HOST)?.to_str().ok()
}

/// Remembers a handler's answer under the URL key the fast path looked up, if it did.
pub fn remember_answer(req: &HttpRequest, catalog: &Catalog, body: &Bytes) {
    if let Some(key) = req.extensions_mut().remove::<UrlKey>() {
        catalog.remember_url_answer(&key, body.clone());
    }
}

/// Where an instance sits. The stack has two: one in front of `client_address::decide` for
/// requests without forwarding headers (nearly all of them without a proxy: their answer needs
/// nothing `decide` works out, and skipping it was a fifth of a cached answer's cost), and one
/// behind it for the others, whose forwarding headers must first be judged (kept from a
/// trusted proxy, dropped from anyone else) before they may name the URL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    InFrontOfClientAddress,
    BehindClientAddress,
}

pub struct CachedReads {
    catalog: Catalog,
    routes: Rc<[RouteOk]>,
    placement: Placement,
}

impl CachedReads {
    pub fn new(catalog: Catalog, metrics: &Metrics, placement: Placement) -> CachedReads {
        CachedReads {
            catalog,
            routes: ROUTES.iter().map(|route| metrics.route_ok(route)).collect(),
            placement,
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for CachedReads
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CachedReadsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CachedReadsService {
            service: Rc::new(service),
            catalog: self.catalog.clone(),
            routes: self.routes.clone(),
            placement: self.placement,
        }))
    }
}

pub struct CachedReadsService<S> {
    service: Rc<S>,
    catalog: Catalog,
    routes: Rc<[RouteOk]>,
    placement: Placement,
}

impl<S> CachedReadsService<S> {
    /// The URL key of a catalog read this instance is to look up, if any (see `Placement`).
    fn key_of(&self, req: &ServiceRequest) -> Option<UrlKey> {
        let (path, query) = (req.path(), req.query_string());
        if let Some(host) = plain_host(req) {
            // Behind `decide`, a plain request was looked up in front of it already, unless it
            // only became plain when `decide` dropped an untrusted peer's forwarding headers.
            if self.placement == Placement::BehindClientAddress
                && req.extensions().contains::<UrlKey>()
            {
                return None;
            }
            return Some(self.catalog.url_key("http", host, path, query));
        }
        if self.placement == Placement::InFrontOfClientAddress {
            return None;
        }
        let info = req.connection_info();
        Some(
            self.catalog
                .url_key(info.scheme(), info.host(), path, query),
        )
    }
}

type Answer<B> = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

impl<S, B> Service<ServiceRequest> for CachedReadsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Either<Ready<Answer<B>>, LocalBoxFuture<'static, Answer<B>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let route = (req.method() == Method::GET)
            .then(|| route_of(req.path()))
            .flatten();
        let looked_up = route.and_then(|route| Some((route, self.key_of(&req)?)));
        if let Some((route, key)) = looked_up {
            if let Some(body) = self.catalog.url_answer(&key) {
                let response = answer(&req, body);
                self.routes[route].record(started);
                return Either::Left(ready(Ok(req.into_response(response).map_into_right_body())));
            }
            req.extensions_mut().insert(key);
        }
        let service = self.service.clone();
        Either::Right(Box::pin(async move {
            Ok(service.call(req).await?.map_into_left_body())
        }))
    }
}

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
const HIT: HeaderValue = HeaderValue::from_static("HIT");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
/// `SECURITY_HEADERS`, checked once at compile time instead of on every answer.
const SECURITY: [(HeaderName, HeaderValue); 4] = {
    let [a, b, c, d] = SECURITY_HEADERS;
    [pair(a), pair(b), pair(c), pair(d)]
};

const fn pair((name, value): (&'static str, &'static str)) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// The remembered bytes with the headers the full stack would have added.
fn answer(req: &ServiceRequest, body: Bytes) -> HttpResponse {
    let id = request_id::choose(req.headers());
    tracing::info!(
        request_id = %id,
        method = "GET",
        path = %request_id::loggable(req.path()),
        status = 200,
        "answered from the URL cache"
    );
    let mut response = HttpResponse::Ok().body(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, JSON);
    headers.insert(X_CACHE, HIT);
    for (name, value) in SECURITY {
        headers.insert(name, value);
    }
    if let Ok(value) = HeaderValue::try_from(id) {
        headers.insert(request_id::HEADER_NAME, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::route_of;

    #[test]
    fn only_the_catalog_read_paths_take_the_fast_path() {
        assert_eq!(route_of("/api/products"), Some(0));
        assert_eq!(route_of("/api/products/"), Some(0));
        assert_eq!(route_of("/api/products/12"), Some(1));
        assert_eq!(route_of("/api/products/12/"), Some(1));
        assert_eq!(route_of("/api/categories/"), Some(2));
        assert_eq!(route_of("/api/categories/3/"), Some(3));
        assert_eq!(route_of("/api/products//"), None);
        assert_eq!(route_of("/api/products/12/stock/"), None);
        assert_eq!(route_of("/api/products/12//"), None);
        assert_eq!(route_of("/api/productsx/"), None);
        assert_eq!(route_of("/api/cart/"), None);
        assert_eq!(route_of("/products/"), None);
    }
}
