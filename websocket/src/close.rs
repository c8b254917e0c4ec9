//! Close status codes (RFC 6455 §7.4).
//!
//! The registry: 1000 normal, 1001 going away, 1002 protocol error, 1003 unsupported data,
//! 1007 invalid payload data, 1008 policy violation, 1009 message too big, 1010 mandatory
//! extension, 1011 internal error; 1012–1014 are registered with IANA later (service restart,
//! try again later, bad gateway) and accepted here as websockets does; 3000–3999 are for
//! libraries and frameworks, 4000–4999 private. 1004 is reserved; 1005 (no status), 1006
//! (abnormal closure) and 1015 (TLS failure) are for reporting only and never on the wire;
//! 0–999 and 1016–2999 are unassigned.

/// Normal closure.
pub const NORMAL: u16 = 1000;
/// The endpoint is going away (server shutdown, page navigated away).
pub const GOING_AWAY: u16 = 1001;
/// Protocol error.
pub const PROTOCOL_ERROR: u16 = 1002;
/// A data type the endpoint cannot accept.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// RFC 6455's code for a close frame without a code (here `close_code()` is then `None`);
/// never sent.
pub const NO_STATUS: u16 = 1005;
/// RFC 6455's code for a connection that dropped without a close (here `close_code()` is
/// then `None`); never sent.
pub const ABNORMAL: u16 = 1006;
/// Data inconsistent with the message type (invalid UTF-8 in text).
pub const INVALID_PAYLOAD: u16 = 1007;
/// Policy violation.
pub const POLICY_VIOLATION: u16 = 1008;
/// Message too big.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// Internal error.
pub const INTERNAL_ERROR: u16 = 1011;

/// Whether a received close frame may carry `code` (RFC 6455 §7.4); anything else fails the
/// connection with 1002 (Autobahn 7.9).
///
/// # Examples
///
/// ```
/// use typhoon_websocket::close::is_valid_received_code;
/// assert!(is_valid_received_code(1000));
/// assert!(is_valid_received_code(4999));
/// assert!(!is_valid_received_code(1005));
/// assert!(!is_valid_received_code(999));
/// ```
pub fn is_valid_received_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Whether this endpoint may send `code`: the same set as
/// [`is_valid_received_code`], so 1005, 1006 and 1015 never go on the wire. (1010 is meant for
/// clients; it is not refused for servers, whose peers accept it.)
pub fn is_sendable_code(code: u16) -> bool {
    is_valid_received_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autobahn_7_7_and_7_9_codes() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert!(is_valid_received_code(code), "{code}");
        }
        for code in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!is_valid_received_code(code), "{code}");
            assert!(!is_sendable_code(code), "{code}");
        }
    }
}
