//! Tornado's `demos/webspider`: a [`Queue`] of URLs, `concurrency` workers fetching with
//! [`AsyncHTTPClient`], following the links under a base URL, until the queue is joined.
//!
//! The worker loop, the `fetching`/`fetched`/`dead` sets and the stop by one `None` per worker
//! are Tornado's; `gen.multi([worker() for _ in range(concurrency)])` is [`join_all`].

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::{Duration, Instant};

use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, urljoin};
use typhoon_ioloop::queues::Queue;
use typhoon_ioloop::{LoopError, join_all};

/// What a crawl found (Tornado's `fetching`, `fetched` and `dead` sets).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Crawl {
    /// Every URL a worker started on.
    pub fetching: BTreeSet<String>,
    /// The URLs fetched and parsed.
    pub fetched: BTreeSet<String>,
    /// The URLs whose fetch failed (an error status or no answer).
    pub dead: BTreeSet<String>,
}

/// The links of the `<a href>` tags of `html` (Tornado's `get_links`, an `HTMLParser` for `a`
/// tags), entity-unescaped, in document order.
pub fn get_links(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut links = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<a") {
        let start = at + found + 2;
        let end = lower[start..].find('>').map_or(lower.len(), |i| start + i);
        at = end;
        // `<a` must start the tag name (not `<abbr`).
        if !lower[start..]
            .chars()
            .next()
            .is_some_and(char::is_whitespace)
        {
            continue;
        }
        if let Some(href) = attribute(&html[start..end], &lower[start..end], "href") {
            links.push(typhoon_escape::xhtml_unescape(href));
        }
    }
    links
}

/// The value of attribute `name` in a tag's text (`lower` is the same text, lowercased).
fn attribute<'a>(tag: &'a str, lower: &str, name: &str) -> Option<&'a str> {
    let mut at = 0;
    while let Some(found) = lower[at..].find(name) {
        let after = at + found + name.len();
        at = after;
        let before_ok = lower[..at - name.len()]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let rest = lower[after..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = lower.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let offset = tag.len() - value.len();
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = &tag[offset + 1..];
                &inner[..inner.find(quote).unwrap_or(inner.len())]
            }
            _ => &value[..value.find(char::is_whitespace).unwrap_or(value.len())],
        });
    }
    None
}

/// Drops the fragment of a URL (Tornado's `remove_fragment`, Python's `urldefrag`).
pub fn remove_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

/// Fetches `url` and returns its links, absolute and without fragments (Tornado's
/// `get_links_from_url`).
///
/// # Errors
///
/// The client's error, an error status included.
pub async fn get_links_from_url(
    client: &AsyncHTTPClient,
    url: &str,
) -> Result<Vec<String>, HTTPClientError> {
    let response = client.fetch(url).await?;
    let html = response.text();
    Ok(get_links(&html)
        .iter()
        .map(|link| remove_fragment(&urljoin(url, remove_fragment(link))).to_owned())
        .collect())
}

/// Crawls from `base_url` with `concurrency` workers, following only links that start with
/// `base_url`, and returns what it found (Tornado's `main`). Each fetched and failed URL is
/// printed when `verbose`, as Tornado's demo prints them.
///
/// # Errors
///
/// [`LoopError::Timeout`] if the queue is not done within `timeout` (Tornado's
/// `q.join(timeout=timedelta(seconds=300))`).
pub async fn crawl(
    base_url: &str,
    concurrency: usize,
    timeout: Duration,
    verbose: bool,
) -> Result<Crawl, LoopError> {
    let queue: Queue<Option<String>> = Queue::new(0);
    let start = Instant::now();
    let found = Rc::new(RefCell::new(Crawl::default()));
    let client = AsyncHTTPClient::new();

    let fetch_url = {
        let (queue, found, client) = (queue.clone(), Rc::clone(&found), client.clone());
        let base_url = base_url.to_owned();
        move |current_url: String| {
            let (queue, found, client) = (queue.clone(), Rc::clone(&found), client.clone());
            let base_url = base_url.clone();
            async move {
                if found.borrow().fetching.contains(&current_url) {
                    return Ok(());
                }
                if verbose {
                    println!("fetching {current_url}");
                }
                found.borrow_mut().fetching.insert(current_url.clone());
                let urls = get_links_from_url(&client, &current_url).await?;
                found.borrow_mut().fetched.insert(current_url);
                for new_url in urls {
                    // Only follow links beneath the base URL.
                    if new_url.starts_with(&base_url) {
                        queue.put(Some(new_url)).await;
                    }
                }
                Ok::<(), HTTPClientError>(())
            }
        }
    };

    let worker = |_| {
        let (queue, found, fetch_url) = (queue.clone(), Rc::clone(&found), fetch_url.clone());
        async move {
            while let Some(url) = queue.get().await {
                if let Err(error) = fetch_url(url.clone()).await {
                    if verbose {
                        println!("Exception: {error} {url}");
                    }
                    found.borrow_mut().dead.insert(url);
                }
                // Balanced with the `put` that queued `url`.
                let _ = queue.task_done();
            }
            let _ = queue.task_done(); // the `None` that stopped this worker
        }
    };

    queue.put(Some(base_url.to_owned())).await;
    // Start the workers, then wait for the work queue to be empty.
    let workers = typhoon_ioloop::spawn(join_all((0..concurrency.max(1)).map(worker)));
    let joined = queue.join_timeout(timeout).await;
    if joined.is_err() {
        workers.cancel();
        return Err(LoopError::Timeout);
    }
    let result = found.borrow().clone();
    debug_assert_eq!(
        result.fetching,
        result.fetched.union(&result.dead).cloned().collect()
    );
    if verbose {
        println!(
            "Done in {} seconds, fetched {} URLs.",
            start.elapsed().as_secs(),
            result.fetched.len()
        );
        println!("Unable to fetch {} URLs.", result.dead.len());
    }
    // Tornado's stop: one `None` per worker, then wait for them.
    for _ in 0..concurrency.max(1) {
        queue.put(None).await;
    }
    workers.await?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_links_reads_a_tags_only() {
        let html = r#"<p><A HREF="/a">a</A> <abbr href="/no">x</abbr>
            <a class=x href='b.html#top'>b</a> <a href=c?x=1&amp;y=2>c</a> <a name="n">n</a>
            <link href="/style.css"></p>"#;
        assert_eq!(get_links(html), ["/a", "b.html#top", "c?x=1&y=2"]);
    }

    #[test]
    fn remove_fragment_drops_it() {
        assert_eq!(remove_fragment("http://a/b#c"), "http://a/b");
        assert_eq!(remove_fragment("http://a/b"), "http://a/b");
    }
}
