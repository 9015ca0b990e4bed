//! The HTTP client of the relying party: discovery, keys and the token endpoint of a
//! provider that a company manager configured, so every call is bounded: no redirects
//! (a redirect could point the server at an internal address), a connect timeout and a
//! total timeout, bodies cut at 256 KiB (discovery, key sets and token answers are a few
//! KiB). TLS is rustls with the system's trust store (a company's private CA added there is
//! trusted).
//!
//! A company manager chooses the issuer, and the issuer's discovery document chooses the
//! key-set and token endpoints, so none of these URLs is trusted to point somewhere harmless.
//! Unless the operator sets `SSO_ALLOW_PRIVATE_NETWORKS` (which also allows plain `http` to
//! `localhost` or a private address, never to a public one), every request must be `https`
//! to a public address: a host given as an address is checked before anything is sent, a name is
//! resolved by [`PublicOnly`], which keeps only public addresses, so the check happens at
//! connect time (a name that later resolves elsewhere, DNS rebinding, is caught too). System
//! proxies are then not used: through a proxy the check would see the proxy's address, not
//! the provider's.

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The largest body read from an identity provider.
const MAX_BODY: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(transparent)]
    Reqwest(#[from] reqwest::Error),
    #[error("response larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error(
        "only https is used (plain http only to localhost or a private address, with \
         SSO_ALLOW_PRIVATE_NETWORKS): {0}"
    )]
    Insecure(String),
    #[error(transparent)]
    NotPublic(#[from] NotPublic),
    #[error(transparent)]
    Http(#[from] http::Error),
}

/// A host with no public address (when private networks are not allowed).
#[derive(Debug, thiserror::Error)]
#[error(
    "{host} has no public address (private, loopback, link-local and reserved addresses are \
     refused unless SSO_ALLOW_PRIVATE_NETWORKS is set)"
)]
pub struct NotPublic {
    host: String,
}

impl HttpError {
    /// Whether the request was refused for where it would have gone (plain http, or an
    /// address that is not public), not for how the provider answered.
    pub fn refused_address(&self) -> bool {
        match self {
            HttpError::Insecure(_) | HttpError::NotPublic(_) => true,
            HttpError::Reqwest(e) => {
                // The resolver's refusal comes back wrapped by reqwest and hyper.
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
                while let Some(error) = source {
                    if error.is::<NotPublic>() {
                        return true;
                    }
                    source = error.source();
                }
                false
            }
            HttpError::TooLarge | HttpError::Http(_) => false,
        }
    }
}

/// A bounded client (cheap to clone).
#[derive(Clone, Debug)]
pub struct BoundedHttp {
    client: reqwest::Client,
    allow_private_networks: bool,
}

impl BoundedHttp {
    /// `allow_private_networks`: `SSO_ALLOW_PRIVATE_NETWORKS` (plain http and any address).
    pub fn new(allow_private_networks: bool) -> Result<BoundedHttp, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("admin-center/", env!("CARGO_PKG_VERSION")));
        if !allow_private_networks {
            builder = builder.dns_resolver(Arc::new(PublicOnly)).no_proxy();
        }
        Ok(BoundedHttp {
            client: builder.build()?,
            allow_private_networks,
        })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|_| HttpError::Insecure(request.uri().to_string()))?;
        check_url(&url, self.allow_private_networks)?;
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

/// Whether the server may call `url` before resolving anything. `https`: a host given as an
/// address must be public unless private networks are allowed (names are checked when they
/// resolve, by [`PublicOnly`]). Plain `http` only when private networks are allowed, and
/// then only to `localhost` or an address that is not public: never in clear over the
/// internet.
pub fn check_url(url: &url::Url, allow_private_networks: bool) -> Result<(), HttpError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(HttpError::Insecure(url.to_string())),
    };
    match url.scheme() {
        "https" => match ip {
            Some(ip) if !allow_private_networks && !is_public(ip) => Err(NotPublic {
                host: ip.to_string(),
            }
            .into()),
            _ => Ok(()),
        },
        "http" if allow_private_networks => {
            let private = match ip {
                Some(ip) => !is_public(ip),
                None => url
                    .host_str()
                    .is_some_and(|host| host.eq_ignore_ascii_case("localhost")),
            };
            if private {
                Ok(())
            } else {
                Err(HttpError::Insecure(url.to_string()))
            }
        }
        _ => Err(HttpError::Insecure(url.to_string())),
    }
}

/// The system resolver (getaddrinfo, on tokio's blocking pool as reqwest's own resolver
/// does), keeping only public addresses; none left is an error ([`NotPublic`]).
#[derive(Debug)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port on the addresses it gets.
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(
                    Box::new(NotPublic { host }) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is a public unicast address: not loopback, unspecified, private, shared
/// (CGNAT), link-local, unique-local, multicast, broadcast, documentation, benchmarking or
/// otherwise reserved, including IPv4 addresses inside IPv6 (mapped, compatible, NAT64,
/// 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0 // "this network", 0.0.0.0/8
        || a == 10 // private
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), 100.64/10
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation (TEST-NET-1)
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18/15
        || (a == 198 && b == 51 && c == 100) // documentation (TEST-NET-2)
        || (a == 203 && b == 0 && c == 113) // documentation (TEST-NET-3)
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast
    !reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated; :: and ::1 land in
    // 0.0.0.0/8 and are refused with it).
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        return is_public_v4(embedded(s[6], s[7]));
    }
    // NAT64 well-known prefix 64:ff9b::/96: the IPv4 address is the last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded(s[6], s[7]));
    }
    // 6to4 2002::/16: the IPv4 address follows the prefix.
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2]));
    }
    // Only global unicast (2000::/3) is public: this leaves out unique-local fc00::/7,
    // link-local fe80::/10, site-local fec0::/10, multicast ff00::/8, discard 100::/64 and
    // the local-use NAT64 prefix 64:ff9b:1::/48.
    let global_unicast = s[0] & 0xe000 == 0x2000;
    // 2001::/23: IETF protocol assignments (Teredo, benchmarking, ORCHID); 2001:db8::/32
    // and 3fff::/20: documentation.
    let reserved = match s[0] {
        0x2001 => s[1] < 0x0200 || s[1] == 0x0db8,
        0x3fff => s[1] < 0x1000,
        _ => false,
    };
    global_unicast && !reserved
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            // IPv4
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.5",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            // IPv6
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "100::1",
            "2001:db8::1",
            "2001::1",
            "2001:2::1",
            "3fff::1",
            "64:ff9b:1::a00:1",
            // IPv4 inside IPv6
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::c0a8:1",
            "2002:7f00:1::1",
            "2002:a00:1::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn http_and_private_literals_are_refused_unless_allowed() {
        let check = |url: &str, allow: bool| check_url(&url::Url::parse(url).unwrap(), allow);
        assert!(check("https://idp.example.com/x", false).is_ok());
        assert!(check("https://8.8.8.8/x", false).is_ok());
        for refused in [
            "http://idp.example.com/",
            "http://127.0.0.1:8080/",
            "https://127.0.0.1/",
            "https://0x7f.1/",
            "https://[::1]/",
            "https://[::ffff:7f00:1]/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
        ] {
            let error = check(refused, false).expect_err(refused);
            assert!(error.refused_address(), "{refused}: {error}");
        }
        for allowed in [
            "http://127.0.0.1:8080/",
            "http://localhost:8080/",
            "http://10.1.2.3/",
            "http://[fd00::1]/",
            "https://10.1.2.3/",
            "https://idp.internal/",
        ] {
            assert!(check(allowed, true).is_ok(), "{allowed}");
        }
        // Never in clear over the internet, even with private networks allowed.
        for refused in [
            "http://idp.example.com/",
            "http://8.8.8.8/",
            "ftp://idp.example.com/",
        ] {
            assert!(check(refused, true).is_err(), "{refused}");
        }
    }

    /// A listener that counts the connections it accepts.
    async fn counting_listener() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((_stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        (port, accepted)
    }

    fn get(url: &str) -> HttpRequest {
        http::Request::builder().uri(url).body(Vec::new()).unwrap()
    }

    /// Every request goes through this client, so an endpoint that a public provider's
    /// discovery document points at this machine (`jwks_uri`, `token_endpoint`) is refused
    /// the same way: by name (at connect time, through the resolver) or by address.
    #[tokio::test]
    async fn the_guarded_client_connects_to_no_private_address() {
        let (port, accepted) = counting_listener().await;
        let guarded = BoundedHttp::new(false).unwrap();
        for url in [
            format!("https://localhost:{port}/jwks"),
            format!("https://127.0.0.1:{port}/token"),
            format!("https://[::ffff:127.0.0.1]:{port}/token"),
            format!("http://127.0.0.1:{port}/token"),
            format!("http://localhost:{port}/jwks"),
        ] {
            let error = guarded.call(get(&url)).await.expect_err(&url);
            assert!(error.refused_address(), "{url}: {error}");
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);

        // The same client with private networks allowed does connect (the listener never
        // answers HTTP, so the request itself fails).
        let open = BoundedHttp::new(true).unwrap();
        let error = open
            .call(get(&format!("https://localhost:{port}/jwks")))
            .await
            .expect_err("no TLS there");
        assert!(!error.refused_address(), "{error}");
        assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }
}
