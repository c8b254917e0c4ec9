//! Overriding options in tests: Tornado's `options.mockable()` with `mock.patch.object`, as a
//! guard that restores the value when dropped.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use crate::error::Result;
use crate::parser::{Erased, OptionHandle, OptionParser, Slot};
use crate::types::OptionType;

/// Restores an option's previous value when dropped: from [`OptionParser::mock`] or
/// [`OptionHandle::mock`] (Tornado's `mock.patch.object(options.mockable(), name, value)`).
///
/// Setting and restoring run the option's callback, as Tornado's `setattr` does; an error from
/// the callback while restoring is ignored (a drop cannot report it). Guards of one option
/// nest: drop them in reverse order (as scopes do) and the first value comes back.
#[must_use = "the option is restored when the guard is dropped, at once if it is not kept"]
pub struct OptionMock {
    /// The option.
    slot: Arc<Slot>,
    /// Its value before the mock.
    original: Erased,
}

impl OptionMock {
    fn set(slot: Arc<Slot>, value: &Erased) -> Result<Self> {
        let original = slot.current();
        slot.store(value)?;
        Ok(Self { slot, original })
    }
}

impl Drop for OptionMock {
    fn drop(&mut self) {
        let _ = self.slot.store(&self.original);
    }
}

impl fmt::Debug for OptionMock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptionMock").finish_non_exhaustive()
    }
}

impl OptionParser {
    /// Sets option `name` to `value` until the returned guard is dropped (Tornado's
    /// `mock.patch.object(options.mockable(), name, value)`), for tests.
    ///
    /// # Errors
    ///
    /// [`OptionsError::UnknownOption`](crate::OptionsError::UnknownOption),
    /// [`OptionsError::WrongType`](crate::OptionsError::WrongType), or the callback's error
    /// (the value is then set but restored at once).
    ///
    /// # Examples
    ///
    /// ```
    /// use typhoon_options::{OptionDef, OptionParser};
    ///
    /// let parser = OptionParser::new();
    /// parser.define(OptionDef::new("port", 8888_u16))?;
    /// {
    ///     let _mock = parser.mock("port", 1_u16)?;
    ///     assert_eq!(parser.get::<u16>("port")?, 1);
    /// }
    /// assert_eq!(parser.get::<u16>("port")?, 8888);
    /// # Ok::<(), typhoon_options::OptionsError>(())
    /// ```
    pub fn mock<T: OptionType>(&self, name: &str, value: T) -> Result<OptionMock> {
        let slot = self.slot(name)?;
        if slot.type_id != TypeId::of::<T>() {
            return Err(slot.wrong_type::<T>());
        }
        OptionMock::set(slot, &(Arc::new(value) as Erased))
    }
}

impl<T: OptionType> OptionHandle<T> {
    /// Sets the option to `value` until the returned guard is dropped; see
    /// [`OptionParser::mock`].
    ///
    /// # Errors
    ///
    /// The callback's error.
    pub fn mock(&self, value: T) -> Result<OptionMock> {
        OptionMock::set(Arc::clone(&self.slot), &(Arc::new(value) as Erased))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{OptionDef, OptionsError};

    #[test]
    fn mock_patch_restores_on_drop() {
        // Tornado's options_test.py test_mock_patch.
        let parser = OptionParser::new();
        let a = parser.define(OptionDef::new("a", 1_i64)).expect("define");
        let b = parser.define(OptionDef::new("b", 2_i64)).expect("define");
        {
            let _a = parser.mock("a", 5_i64).expect("mock");
            assert_eq!(a.get(), 5);
            {
                let _b = b.mock(6).expect("mock");
                assert_eq!(b.get(), 6);
                let _a2 = a.mock(7).expect("nested mock");
                assert_eq!(a.get(), 7);
            }
            assert_eq!(a.get(), 5);
            assert_eq!(b.get(), 2);
        }
        assert_eq!(a.get(), 1);
        assert_eq!(b.get(), 2);
    }

    #[test]
    fn mock_checks_name_and_type() {
        let parser = OptionParser::new();
        parser
            .define(OptionDef::new("port", 80_u16))
            .expect("define");
        assert!(matches!(
            parser.mock("prot", 1_u16),
            Err(OptionsError::UnknownOption { .. })
        ));
        assert!(matches!(
            parser.mock("port", "x".to_owned()),
            Err(OptionsError::WrongType { .. })
        ));
        assert_eq!(parser.get::<u16>("port").expect("get"), 80);
    }

    #[test]
    fn mock_runs_the_callback_both_ways() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let parser = OptionParser::new();
        let level = parser
            .define(OptionDef::new("level", 1_u8).callback(|_| {
                CALLS.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }))
            .expect("define");
        drop(level.mock(3).expect("mock"));
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
        assert_eq!(level.get(), 1);
    }
}
