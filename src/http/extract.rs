//! Request parsing at the edge: JSON bodies and query strings become typed values or a clear 4xx.
use actix_web::dev::Payload;
use actix_web::{http::header, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

use crate::domain::catalog::{PageRequest, ProductFilter};
use crate::domain::catalog_input::FilterFields;
use crate::domain::FieldErrors;
use crate::error::{AppError, Problem};

pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_QUERY_BYTES: usize = 4096;
pub const MAX_PATH_BYTES: usize = 2048;

/// A JSON body: `application/json` only, at most 1 MiB, unknown fields refused, and every
/// deserialization error names its field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let is_json = mime == "application/json"
            || (mime.starts_with("application/") && mime.ends_with("+json"));
        let too_long = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n > MAX_BODY_BYTES);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if too_long {
                return Err(AppError::PayloadTooLarge);
            }
            if !is_json {
                return Err(AppError::UnsupportedMediaType);
            }
            let bytes =
                body.await
                    .map_err(|e| match e.as_response_error().status_code().as_u16() {
                        413 => AppError::PayloadTooLarge,
                        _ => AppError::BadRequest("the request body could not be read".into()),
                    })?;
            // Every body of the API is an object; serde would read `[1, 2]` as the fields in order.
            match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') | None => parse_json(&bytes).map(ApiJson),
                Some(_) => Err(AppError::BadRequest(
                    "the request body must be a JSON object".into(),
                )),
            }
        })
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer.end().map_err(|_| {
        AppError::BadRequest("the request body has trailing data after the JSON value".into())
    })?;
    Ok(value)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let text = inner.to_string();
    // serde_json appends " at line L column C": useful to nobody reading a form.
    let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
    if inner.is_syntax() || inner.is_eof() {
        return AppError::BadRequest(format!("malformed JSON: {message}"));
    }
    let field_named = |marker: &str| {
        message
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let (field, message) = if let Some(field) = field_named("unknown field `") {
        (field, "unknown field".to_owned())
    } else if let Some(field) = field_named("missing field `") {
        let field = if path == "." {
            field
        } else {
            format!("{path}.{field}")
        };
        (field, "this field is required".to_owned())
    } else if path == "." {
        ("non_field_errors".to_owned(), message)
    } else {
        (path, message)
    };
    AppError::fields(FieldErrors::from([(field, vec![message])]))
}

/// Middleware: a path over 2 KiB or a query string over 4 KiB is refused with `414` before any
/// routing or parsing (the head as a whole is bounded by actix at 128 KiB: `431`).
pub async fn limit_uri(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if req.path().len() > MAX_PATH_BYTES || req.query_string().len() > MAX_QUERY_BYTES {
        let problem = Problem::new(
            actix_web::http::StatusCode::URI_TOO_LONG,
            "URI too long",
            "the path may be at most 2048 bytes and the query string at most 4096",
        );
        let response = actix_web::HttpResponse::UriTooLong()
            .content_type("application/problem+json")
            .body(problem.body());
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The query string as pairs; malformed encoding or an oversized query is a 400.
pub fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, AppError> {
    let raw = req.query_string();
    if raw.len() > MAX_QUERY_BYTES {
        return Err(AppError::BadRequest("the query string is too long".into()));
    }
    serde_urlencoded::from_str(raw)
        .map_err(|_| AppError::BadRequest("the query string is malformed".into()))
}

/// The single value of `name`; given twice is ambiguous and refused.
pub fn query_value<'a>(
    pairs: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, AppError> {
    let mut values = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(AppError::field(name, "must be given once"));
    }
    Ok(first)
}

/// The product list's filters from its query (the API's list and the catalog page): known
/// parameters parsed, each malformed value named in one 400; others are ignored, as DRF does.
pub fn product_filter(pairs: &[(String, String)]) -> Result<ProductFilter, AppError> {
    let fields = FilterFields {
        category: query_value(pairs, "category")?,
        min_price: query_value(pairs, "min_price")?,
        max_price: query_value(pairs, "max_price")?,
        in_stock: query_value(pairs, "in_stock")?,
        search: query_value(pairs, "search")?,
        ordering: query_value(pairs, "ordering")?,
    };
    Ok(ProductFilter::parse(fields)?)
}

/// Absolute URL of the current path (without query), for pagination links.
pub fn absolute_path(req: &HttpRequest, path: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}{}", info.scheme(), info.host(), path)
}

pub fn page_request(pairs: &[(String, String)]) -> Result<PageRequest, AppError> {
    Ok(PageRequest::parse(
        query_value(pairs, "page")?,
        query_value(pairs, "page_size")?,
    )?)
}

/// Parses a typed id from a path segment: 404 for anything that is not a positive integer,
/// since no such resource can exist.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}
