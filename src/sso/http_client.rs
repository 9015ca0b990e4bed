//! The HTTP client of the relying party: discovery, keys and the token endpoint of a
//! provider that a company manager configured, so every call is bounded: no redirects
//! (a redirect could point the server at an internal address), a connect timeout and a
//! total timeout, bodies cut at 256 KiB (discovery, key sets and token answers are a few
//! KiB). TLS is rustls with the system's trust store (a company's private CA added there is
//! trusted). Plain `http` is refused except to this machine (a provider under development,
//! and the tests).

use std::{future::Future, pin::Pin, time::Duration};

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The largest body read from an identity provider.
const MAX_BODY: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    #[error("response larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("plain http is allowed only to this machine: {0}")]
    Insecure(String),
    #[error(transparent)]
    Http(#[from] http::Error),
}

/// A bounded client (cheap to clone).
#[derive(Clone, Debug)]
pub struct BoundedHttp {
    client: reqwest::Client,
}

impl BoundedHttp {
    pub fn new() -> Result<BoundedHttp, reqwest::Error> {
        Ok(BoundedHttp {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .user_agent(concat!("admin-center/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|_| HttpError::Insecure(request.uri().to_string()))?;
        if !crate::service::sso::secure_or_loopback(&url) {
            return Err(HttpError::Insecure(url.to_string()));
        }
        let request = reqwest::Request::try_from(request)?;
        let mut response = self.client.execute(request).await?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Err(HttpError::TooLarge);
        }
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(builder.body(body)?)
    }
}

impl<'c> AsyncHttpClient<'c> for BoundedHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
