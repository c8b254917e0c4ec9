//! HTTP utilities shared by clients and servers: Tornado's `tornado.httputil`.
//!
//! [`HTTPHeaders`], the start lines and their parsers, form-body and query-string parsing with
//! Tornado 6.6's limits, cookies, URLs, HTTP dates and the reason-phrase table. Everything here is
//! a pure function or value over strings and bytes. `HTTPServerRequest` joins them when the
//! connection layer exists.

mod cookie;
mod date;
mod form;
mod headers;
mod start_line;
mod status;
mod url;

pub use cookie::parse_cookie;
pub use date::{format_timestamp, parse_http_date, write_timestamp};
pub use form::{
    Arguments, Files, HTTPFile, ParseBodyConfig, ParseMultipartConfig, ParseUrlEncodedConfig,
    parse_body_arguments, parse_multipart_form_data, parse_qs_bytes,
};
pub use headers::{GetList, HTTPHeaders, Iter};
pub use start_line::{
    RequestStartLine, ResponseStartLine, parse_request_start_line, parse_response_start_line,
};
pub use status::reason_phrase;
pub use url::{split_host_and_port, url_concat};

pub(crate) use headers::{is_tchar, is_token, trim_ows};
