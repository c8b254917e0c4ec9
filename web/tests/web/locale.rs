//! The request's locale: Tornado's `AcceptLanguageTest` and `SetLazyPropertiesTest` from
//! `web_test.py`, `get_user_locale`, and `_`/`pgettext`/`locale` in templates, over the gettext
//! catalog of Tornado's `locale_test.py` (in `locale/tests`).

use std::path::PathBuf;

use typhoon_locale::{Locale, Translations};
use typhoon_web::{Application, Context, CurrentUser, HTTPError, RequestHandler, Settings, route};

use crate::util::{fetch, get, run, serve};

/// Tornado's `gettext_translations` fixture (French, `tornado_test` domain).
fn french() -> Translations {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../locale/tests/gettext_translations");
    Translations::load_gettext(dir, "tornado_test").expect("the fixture loads")
}

/// `AcceptLanguageHandler`: the browser's locale as `Content-Language`.
struct AcceptLanguage;
impl RequestHandler for AcceptLanguage {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let code = cx.get_browser_locale("en_US").code().replace('_', "-");
        cx.set_header("Content-Language", &code)?;
        Ok(())
    }
}

async fn content_language(accept_language: &str) -> Option<String> {
    let app = Application::new(vec![route("/", || AcceptLanguage)]).translations(french());
    let (_server, addr) = serve(app);
    let r = fetch(
        addr,
        "GET",
        "/",
        &[("Accept-Language", accept_language)],
        b"",
    )
    .await;
    r.header("Content-Language")
}

#[test]
fn accept_language_test_accept_language() {
    run(async {
        assert_eq!(
            content_language("fr-FR;q=0.9").await.as_deref(),
            Some("fr-FR")
        );
        assert_eq!(
            content_language("fr-FR; q=0.9").await.as_deref(),
            Some("fr-FR")
        );
        assert_eq!(
            content_language("de, en;q=0.5, fr-FR;q=0.8")
                .await
                .as_deref(),
            Some("fr-FR"),
            "sorted by q, then Tornado's matching"
        );
    });
}

#[test]
fn accept_language_test_accept_language_ignore() {
    run(async {
        assert_eq!(
            content_language("fr-FR;q=0").await.as_deref(),
            Some("en-US")
        );
    });
}

#[test]
fn accept_language_test_accept_language_invalid() {
    run(async {
        assert_eq!(
            content_language("fr-FR;q=-1").await.as_deref(),
            Some("en-US")
        );
        assert_eq!(
            content_language("fr-FR;q=abc").await.as_deref(),
            Some("en-US")
        );
    });
}

/// Tornado's `SetLazyPropertiesTest.Handler`: the user and the locale set in `prepare`. The
/// locale loader may not run; `get_current_user` runs before `prepare` (it may be async, so it
/// is not lazy), and what `prepare` sets wins.
struct SetLazyProperties;
impl RequestHandler for SetLazyProperties {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.set_current_user(Some("Ben".to_owned()));
        let en = cx.translations().get_closest(["en_US"]);
        cx.set_locale(en);
        Ok(())
    }

    fn get_user_locale(_cx: &Context) -> Option<Locale> {
        panic!("get_user_locale must not be called")
    }

    async fn get_current_user(
        &mut self,
        _cx: &mut Context,
    ) -> Result<Option<CurrentUser>, HTTPError> {
        Ok(Some(CurrentUser::new("Somebody else".to_owned())))
    }

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let user = cx.current_user::<String>().cloned().unwrap_or_default();
        let code = cx.locale().code().to_owned();
        cx.write(format!("Hello {user} ({code})"));
        Ok(())
    }
}

#[test]
fn set_lazy_properties_test_set_properties() {
    run(async {
        let (_server, addr) = serve(Application::new(vec![route("/", || SetLazyProperties)]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"Hello Ben (en_US)");
    });
}

/// The user's own locale wins over the browser's; a template translates with it.
struct Translated;
impl RequestHandler for Translated {
    fn get_user_locale(cx: &Context) -> Option<Locale> {
        // The user's choice, as a profile or a cookie would give it.
        let wanted = cx.request().headers.get("X-User-Locale")?;
        cx.translations().get(wanted.trim())
    }

    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.render("page.html", typhoon_template::context! { n => 2 })?;
        Ok(())
    }
}

#[test]
fn get_user_locale_and_translations_in_templates() {
    run(async {
        let loader = typhoon_template::Loader::with_templates([(
            "page.html",
            "{{ locale.code }}|{{ _('school') }}|{{ pgettext('law', 'right') }}|{{ pgettext('organization', 'club', 'clubs', n) }}|{{ _('%(n)d item', '%(n)d items', n)|format(n=n) }}|{{ locale.format_date('2013-04-28 18:35:00', full_format=true) }}|{{ locale.list(['A', 'B']) }}",
        )]);
        let settings = Settings {
            templates: Some(loader),
            ..Settings::default()
        };
        let app = Application::with_settings(vec![route("/", || Translated)], settings)
            .translations(french());
        let (_server, addr) = serve(app);
        let r = fetch(
            addr,
            "GET",
            "/",
            &[("Accept-Language", "en-US"), ("X-User-Locale", "fr_FR")],
            b"",
        )
        .await;
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            "fr_FR|\u{e9}cole|le droit|les clubs|2 items|April 28, 2013 at 18:35|A and B"
        );
        // Without the user's choice, the browser's.
        let r = fetch(addr, "GET", "/", &[("Accept-Language", "fr")], b"").await;
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            "en_US|school|right|clubs|2 items|April 28, 2013 at 6:35 pm|A and B",
            "`fr` does not find `fr_FR`: the default"
        );
    });
}
