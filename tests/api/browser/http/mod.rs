//! The pages over plain HTTP: a cookie-keeping client that reads the CSRF token from the
//! page like a browser's form would send it.
mod backups;
mod forms;
mod guest_cart;
mod order_emails;
mod render;
mod session;

use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use std::collections::BTreeMap;

use crate::helpers::TestApp;

pub struct Browserless<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
}

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The raw Set-Cookie header for `name`, if the answer set it.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

impl<'a> Browserless<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browserless {
            app,
            cookies: BTreeMap::new(),
        }
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let request = if jar.is_empty() {
            request
        } else {
            request.header(COOKIE, jar.join("; "))
        };
        let response = request.send().await.expect("request sent");
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.app.client.get(self.app.url(path));
        self.send(request).await
    }

    /// A form post with the CSRF token the pages put in every form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.csrf().await;
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        fields.push(("csrf", &token));
        let request = self.app.client.post(self.app.url(path)).form(&fields);
        self.send(request).await
    }

    /// A post as htmx sends it: the token in the header, the target named.
    pub async fn htmx_post(&mut self, path: &str, target: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.csrf().await;
        let request = self
            .app
            .client
            .post(self.app.url(path))
            .header("HX-Request", "true")
            .header("HX-Target", target)
            .header("X-CSRF-Token", token)
            .form(fields);
        self.send(request).await
    }

    /// The CSRF token, fetching a page first when there is no cookie yet.
    pub async fn csrf(&mut self) -> String {
        if !self.cookies.contains_key("os_csrf") {
            let page = self.get("/login").await;
            assert_eq!(page.status, 200);
        }
        self.cookies["os_csrf"].clone()
    }

    pub async fn log_in(&mut self, email: &str, password: &str) {
        let answer = self
            .post("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(answer.status, 303, "log in: {}", answer.body);
        assert!(self.cookies.contains_key("os_access") && self.cookies.contains_key("os_refresh"));
    }
}

/// The text of the first element with `id`, tags stripped (enough for these small fragments).
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let open_end = start + html[start..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</")?;
    Some(html[open_end..close].trim().to_owned())
}
