//! The `blog` example over a real socket: signed-cookie login, `authenticated` compose, XSRF,
//! entries created and edited through SQLite on the executor, HTML escaped.

mod cookie_client;

use cookie_client::CookieClient;
use typhoon_examples::blog::{BlogConfig, Db, DbError, MAX_TITLE_CHARS, USER_COOKIE, make_app};
use typhoon_testing::{AsyncHTTPTestServer, run_test};

const PASSWORD: &str = "correct horse";

fn serve() -> AsyncHTTPTestServer {
    let config = BlogConfig {
        password: PASSWORD.to_owned(),
        ..BlogConfig::default()
    };
    let db = Db::open_in_memory().expect("in-memory database");
    AsyncHTTPTestServer::new(make_app(config, db))
}

/// Signs in as the demo author.
async fn sign_in(client: &CookieClient<'_>) {
    let form = client.get("/auth/login").await;
    assert_eq!(form.code, 200);
    let done = client
        .post_xsrf(
            "/auth/login",
            &[
                ("name", "demo"),
                ("password", PASSWORD),
                ("next", "/compose"),
            ],
        )
        .await;
    assert_eq!(done.code, 302, "{}", done.text());
    assert_eq!(done.headers.get("Location"), Some("/compose"));
}

/// Publishes an entry and returns where it went.
async fn publish(client: &CookieClient<'_>, title: &str, body: &str) -> String {
    let posted = client
        .post_xsrf("/compose", &[("title", title), ("body", body)])
        .await;
    assert_eq!(posted.code, 302, "{}", posted.text());
    posted
        .headers
        .get("Location")
        .expect("a Location")
        .to_owned()
}

#[test]
fn home_and_versioned_static_files() {
    run_test(async {
        let server = serve();
        let client = CookieClient::new(&server);
        let home = client.get("/").await;
        assert_eq!(home.code, 200);
        let html = home.text();
        assert!(html.contains("<title>Typhoon Blog</title>"), "{html}");
        assert!(html.contains("No entries yet."));
        assert!(html.contains("/auth/login?next=%2F"));
        let start = html
            .find("/static/blog.css?v=")
            .expect("a versioned static URL");
        let url: String = html[start..].chars().take_while(|&c| c != '"').collect();
        assert_eq!(url.len(), "/static/blog.css?v=".len() + 32);
        let css = client.get(&url).await;
        assert_eq!(css.code, 200);
        assert!(css.text().contains("#header"));
        // A versioned URL is cached for long (Tornado's static handler).
        assert!(css.headers.get("Cache-Control").is_some());
        let missing = client.get("/entry/nope").await;
        assert_eq!(missing.code, 404);
    });
}

#[test]
fn login_sets_a_signed_cookie() {
    run_test(async {
        let server = serve();
        let client = CookieClient::new(&server);
        client.get("/auth/login").await;
        for (name, password) in [("demo", "wrong"), ("someone", PASSWORD), ("demo", "")] {
            let refused = client
                .post_xsrf("/auth/login", &[("name", name), ("password", password)])
                .await;
            assert_eq!(refused.code, 403);
            assert!(refused.text().contains("Wrong name or password."));
            assert!(client.cookie(USER_COOKIE).is_none());
        }
        sign_in(&client).await;
        let cookie = client.cookie(USER_COOKIE).expect("the login cookie");
        assert!(
            cookie.starts_with("\"2|"),
            "Tornado's v2 signed format: {cookie}"
        );
        let home = client.get("/").await.text().into_owned();
        assert!(home.contains("New post"));
        assert!(home.contains("Sign out"));

        // A cookie with the author's name but no valid signature is nobody.
        let forged = client
            .bare_request("/compose")
            .header("Cookie", &format!("{USER_COOKIE}=demo"));
        assert_eq!(client.fetch(forged).await.code, 302);

        let out = client.get("/auth/logout?next=/archive").await;
        assert_eq!(out.code, 302);
        assert_eq!(out.headers.get("Location"), Some("/archive"));
        assert!(client.cookie(USER_COOKIE).is_none());
        assert_eq!(client.get("/compose").await.code, 302);

        // `next` never leads off the site (a browser drops the tab: `//evil.example/`).
        for hostile in [
            "//evil.example/",
            "/%09/evil.example/",
            "/%5Cevil.example",
            "/%0a/x",
        ] {
            let out = client.get(&format!("/auth/logout?next={hostile}")).await;
            assert_eq!(out.code, 302, "{hostile}");
            assert_eq!(out.headers.get("Location"), Some("/"), "{hostile}");
        }
    });
}

#[test]
fn compose_requires_login_and_xsrf() {
    run_test(async {
        let server = serve();
        let client = CookieClient::new(&server);
        let form = client.get("/compose").await;
        assert_eq!(form.code, 302);
        assert_eq!(
            form.headers.get("Location"),
            Some("/auth/login?next=%2Fcompose")
        );
        // A POST is not redirected: 403, even with a valid XSRF token.
        client.get("/auth/login").await;
        let anonymous = client
            .post_xsrf("/compose", &[("title", "t"), ("body", "b")])
            .await;
        assert_eq!(anonymous.code, 403);

        sign_in(&client).await;
        let form = client.get("/compose").await;
        assert_eq!(form.code, 200);
        assert!(form.text().contains("name=\"_xsrf\""));
        let no_token = client
            .post("/compose", &[("title", "t"), ("body", "b")])
            .await;
        assert_eq!(no_token.code, 403);
        let bad_token = client
            .post("/compose", &[("title", "t"), ("body", "b"), ("_xsrf", "x")])
            .await;
        assert_eq!(bad_token.code, 403);
        let no_title = client
            .post_xsrf("/compose", &[("title", ""), ("body", "b")])
            .await;
        assert_eq!(no_title.code, 400);
        assert!(client.get("/").await.text().contains("No entries yet."));
    });
}

#[test]
fn entries_appear_escaped_on_home_at_their_slug_and_in_the_archive() {
    run_test(async {
        let server = serve();
        let client = CookieClient::new(&server);
        sign_in(&client).await;
        let title = "Hello <script>alert(1)</script> & friends";
        let location = publish(&client, title, "First paragraph.\n\n<b>bold?</b>").await;
        assert_eq!(location, "/entry/hello-script-alert-1-script-friends");

        let escaped_title = "Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends";
        let entry = client.get(&location).await;
        assert_eq!(entry.code, 200);
        let html = entry.text();
        assert!(html.contains(escaped_title), "{html}");
        assert!(html.contains("<p>First paragraph.</p>"));
        assert!(html.contains("<p>&lt;b&gt;bold?&lt;/b&gt;</p>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("Edit this post"));

        // Anonymous readers see it too, without the edit link.
        let reader = CookieClient::new(&server);
        let home = reader.get("/").await.text().into_owned();
        assert!(home.contains(escaped_title));
        assert!(!home.contains("Edit this post"));

        // The same title again gets a new slug.
        let second = publish(&client, title, "again").await;
        assert_eq!(second, format!("{location}-2"));
        let archive = reader.get("/archive").await.text().into_owned();
        assert_eq!(archive.matches(escaped_title).count(), 2);
        let newer = archive
            .find(&second)
            .expect("the second entry is in the archive");
        let older = archive
            .find(&format!("{location}\""))
            .expect("the first entry is in the archive");
        assert!(newer < older, "newest first");

        // Only the five latest are on the home page.
        for n in 0..5 {
            publish(&client, &format!("Entry {n}"), "text").await;
        }
        let home = reader.get("/").await.text().into_owned();
        assert!(home.contains("Entry 4") && home.contains("Entry 0"));
        assert!(!home.contains(escaped_title));
    });
}

#[test]
fn edit_keeps_the_slug() {
    run_test(async {
        let server = serve();
        let client = CookieClient::new(&server);
        sign_in(&client).await;
        let location = publish(&client, "Draft", "old text").await;
        let page = client.get(&location).await.text().into_owned();
        let start = page.find("/compose?id=").expect("an edit link");
        let edit: String = page[start..].chars().take_while(|&c| c != '"').collect();
        let id = edit.trim_start_matches("/compose?id=").to_owned();
        let form = client.get(&edit).await.text().into_owned();
        assert!(form.contains("old text"));
        assert!(form.contains(&format!("name=\"id\" value=\"{id}\"")));

        let saved = client
            .post_xsrf(
                "/compose",
                &[("id", &id), ("title", "Final <i>"), ("body", "new text")],
            )
            .await;
        assert_eq!(saved.code, 302);
        assert_eq!(saved.headers.get("Location"), Some(location.as_str()));
        let page = client.get(&location).await.text().into_owned();
        assert!(page.contains("Final &lt;i&gt;"));
        assert!(page.contains("new text"));

        let missing = client
            .post_xsrf("/compose", &[("id", "999"), ("title", "t"), ("body", "b")])
            .await;
        assert_eq!(missing.code, 404);
        let not_a_number = client.get("/compose?id=x").await;
        assert_eq!(not_a_number.code, 400);
    });
}

#[test]
fn title_too_long_is_a_clear_400_and_nothing_is_written() {
    run_test(async {
        let db = Db::open_in_memory().expect("in-memory database");
        let config = BlogConfig {
            password: PASSWORD.to_owned(),
            ..BlogConfig::default()
        };
        let server = AsyncHTTPTestServer::new(make_app(config, db.clone()));
        let client = CookieClient::new(&server);
        sign_in(&client).await;
        // Characters, not bytes: 200 two-byte characters fit.
        let location = publish(&client, &"é".repeat(MAX_TITLE_CHARS), "fits").await;
        let too_long = "x".repeat(MAX_TITLE_CHARS + 1);
        let refused = client
            .post_xsrf("/compose", &[("title", &too_long), ("body", "lost")])
            .await;
        assert_eq!(refused.code, 400);
        assert_eq!(refused.reason, "Title Too Long");
        assert!(refused.text().contains("Title Too Long"));
        assert_eq!(db.latest(None).await.expect("latest").len(), 1);
        assert!(matches!(
            db.create_entry("demo", &too_long, "b").await,
            Err(DbError::TitleTooLong(_))
        ));
        let entry = db
            .entry_by_slug(location.trim_start_matches("/entry/"))
            .await
            .expect("select")
            .expect("the entry");
        let id = entry.id.to_string();
        let refused = client
            .post_xsrf(
                "/compose",
                &[("id", &id), ("title", &too_long), ("body", "changed")],
            )
            .await;
        assert_eq!(refused.code, 400);
        assert_eq!(db.entry_by_id(entry.id).await.expect("select"), Some(entry));
    });
}

#[test]
fn database_file_keeps_entries_across_opens() {
    let path =
        std::env::temp_dir().join(format!("typhoon-blog-test-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let first = path.clone();
    let slug = run_test(async move {
        let db = Db::open(&first).expect("open");
        db.create_entry("demo", "Kept", "on disk")
            .await
            .expect("insert")
    });
    let second = path.clone();
    let entry = run_test(async move {
        let db = Db::open(&second).expect("reopen");
        db.entry_by_slug(&slug).await.expect("select")
    });
    let _ = std::fs::remove_file(&path);
    let entry = entry.expect("the entry survived");
    assert_eq!(entry.title, "Kept");
    assert_eq!(entry.paragraphs, ["on disk"]);
}

#[test]
fn a_file_from_before_migrations_is_migrated_and_keeps_its_entries() {
    let path =
        std::env::temp_dir().join(format!("typhoon-blog-legacy-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    // The schema as the blog made it before it had migrations, with a title longer than the
    // limit that came later.
    let long = "y".repeat(MAX_TITLE_CHARS + 20);
    {
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch(
            "CREATE TABLE entries (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, author TEXT NOT NULL,
                 slug TEXT NOT NULL UNIQUE, title TEXT NOT NULL, body TEXT NOT NULL,
                 published TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
                 updated TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
        )
        .expect("old schema");
        conn.execute(
            "INSERT INTO entries (author, slug, title, body) VALUES ('demo', 'old', ?1, 'b')",
            [&long],
        )
        .expect("old entry");
    }
    let opened = path.clone();
    let outcome = run_test(async move {
        let db = Db::open(&opened).expect("migrated");
        let old = db.entry_by_slug("old").await.expect("select");
        let refused = db
            .create_entry("demo", &"z".repeat(MAX_TITLE_CHARS + 1), "b")
            .await;
        // Opening again applies nothing twice.
        let again = Db::open(&opened).expect("opened again");
        (
            old,
            refused,
            again.latest(None).await.expect("latest").len(),
        )
    });
    let _ = std::fs::remove_file(&path);
    let (old, refused, count) = outcome;
    assert_eq!(old.map(|entry| entry.title), Some(long));
    assert!(matches!(refused, Err(DbError::TitleTooLong(_))));
    assert_eq!(count, 1);
}

/// The page at `path` as a browser asking for `accept_language` gets it.
async fn page_in(client: &CookieClient<'_>, path: &str, accept_language: &str) -> String {
    let request = client
        .request(path)
        .header("Accept-Language", accept_language);
    let page = client.fetch(request).await;
    assert_eq!(page.code, 200);
    page.text().into_owned()
}

#[test]
fn the_blog_speaks_french_and_spanish_by_accept_language() {
    run_test(async {
        let server = serve();
        let client = CookieClient::new(&server);
        let empty = page_in(&client, "/", "fr-FR,fr;q=0.9,en;q=0.5").await;
        assert!(empty.contains("<html lang=\"fr-FR\">"), "{empty}");
        assert!(
            empty.contains("Aucun article pour l&#x27;instant."),
            "{empty}"
        );
        assert!(empty.contains(">Archives<"));
        sign_in(&client).await;
        publish(&client, "Bonjour", "Un premier article.").await;
        let french = page_in(&client, "/", "fr-FR").await;
        assert!(french.contains("Nouvel article"), "{french}");
        assert!(french.contains("Modifier cet article"));
        // format_date, relative and translated: the entry was written seconds ago.
        assert!(french.contains("il y a "), "{french}");
        assert!(french.contains(", par demo"), "{french}");
        let spanish = page_in(&client, "/", "es-ES;q=0.9, de;q=0.8").await;
        assert!(spanish.contains("<html lang=\"es-ES\">"), "{spanish}");
        assert!(spanish.contains("Nueva entrada"), "{spanish}");
        assert!(spanish.contains("hace "), "{spanish}");
        assert!(spanish.contains(", por demo"), "{spanish}");
        // No language it knows: English, Tornado's default.
        let english = page_in(&client, "/", "ja").await;
        assert!(english.contains("New post"), "{english}");
        assert!(
            english.contains(" seconds ago by demo") || english.contains("1 second ago by demo"),
            "{english}"
        );
        // The archive's dates are full dates in the reader's language.
        let archive = page_in(&client, "/archive", "fr-FR").await;
        let months = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        assert!(months.iter().any(|m| archive.contains(m)), "{archive}");
    });
}
