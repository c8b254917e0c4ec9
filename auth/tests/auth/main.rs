//! typhoon-auth against a fake provider over loopback sockets (Tornado's `auth_test.py`, plus
//! the checks Tornado lacks: state, PKCE, ID tokens, timeouts).

mod failures;
mod flows;
mod util;
