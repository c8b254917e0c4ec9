//! [`CurrentUser`]: the logged-in user of a request, of the application's own type.

use std::any::Any;
use std::fmt;

/// The logged-in user of a request (Tornado's `current_user`), of whatever type the
/// application uses: an account row, a session, a name.
///
/// [`RequestHandler::get_current_user`](crate::RequestHandler::get_current_user) returns
/// one, or [`Context::set_current_user`](crate::Context::set_current_user) sets one; handlers
/// read it back typed with [`Context::current_user`](crate::Context::current_user), and
/// templates see it serialized as `current_user` (`{{ current_user.name }}`,
/// `{% if current_user %}`).
///
/// # Examples
///
/// ```
/// use typhoon_web::CurrentUser;
///
/// #[derive(serde::Serialize)]
/// struct Account { name: String, admin: bool }
///
/// let user = CurrentUser::new(Account { name: "ben".into(), admin: true });
/// assert!(user.get::<Account>().is_some_and(|a| a.admin));
/// assert!(user.get::<String>().is_none(), "another type is not this user");
/// ```
pub struct CurrentUser {
    /// The user.
    value: Box<dyn Any>,
    /// The user as templates see it (serialized).
    #[cfg(feature = "template")]
    to_template: fn(&dyn Any) -> minijinja::Value,
    /// The user's type, for `Debug`.
    type_name: &'static str,
}

impl CurrentUser {
    /// Wraps `user`. It is `Serialize` for the templates' `current_user`.
    pub fn new<U: serde::Serialize + 'static>(user: U) -> Self {
        Self {
            value: Box::new(user),
            #[cfg(feature = "template")]
            to_template: |value| {
                value
                    .downcast_ref::<U>()
                    .map(|user| minijinja::Value::from(minijinja::value::Serde(user)))
                    .unwrap_or_default()
            },
            type_name: std::any::type_name::<U>(),
        }
    }

    /// The user, if it is a `U`.
    pub fn get<U: 'static>(&self) -> Option<&U> {
        self.value.downcast_ref::<U>()
    }

    /// The user, if it is a `U`, mutably.
    pub fn get_mut<U: 'static>(&mut self) -> Option<&mut U> {
        self.value.downcast_mut::<U>()
    }

    /// The user as templates see it.
    #[cfg(feature = "template")]
    pub(crate) fn template_value(&self) -> minijinja::Value {
        (self.to_template)(&*self.value)
    }
}

impl fmt::Debug for CurrentUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentUser")
            .field("type", &self.type_name)
            .finish_non_exhaustive()
    }
}
