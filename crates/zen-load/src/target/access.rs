//! What an HTTP target needs to let the load in: extra headers on every request (`-H`, a
//! scenario's `[target] headers`), a bearer token read from the environment
//! (`--bearer-token-env`), and how to trust its TLS certificate (`--cacert`, `--insecure`).
//! Header values are secrets: they are marked sensitive (hyper never logs them), never printed,
//! and reports carry only their names.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hyper::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

/// Headers that the client sets itself: a user's value would break the framing of a request.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
];

/// Credentials and trust for an HTTP target (cheap to share: built once per run).
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    /// Added to every request, values marked sensitive.
    headers: HeaderMap,
    /// PEM certificates to trust besides the system's (`--cacert`).
    cacert: Option<(PathBuf, Vec<u8>)>,
    /// Accept any certificate (`--insecure`).
    pub insecure: bool,
}

/// The access flags (or scenario keys) as given, before they are checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccessAsked {
    /// `Name: value` pairs, later ones win by name.
    pub headers: Vec<(String, String)>,
    /// The environment variable holding a bearer token.
    pub bearer_token_env: Option<String>,
    /// A PEM file of certificates to trust.
    pub cacert: Option<PathBuf>,
    /// Skip certificate verification.
    pub insecure: bool,
}

impl AccessAsked {
    /// Nothing asked: the target needs no credentials and trusts the system's roots.
    pub(crate) fn is_empty(&self) -> bool {
        self.headers.is_empty()
            && self.bearer_token_env.is_none()
            && self.cacert.is_none()
            && !self.insecure
    }
}

impl Access {
    /// Check what was asked and read the token and the certificates (a missing variable, an
    /// unreadable file or a header a client must set itself is a setup error).
    pub(crate) fn build(asked: &AccessAsked) -> Result<Access> {
        let mut headers = HeaderMap::new();
        for (name, value) in &asked.headers {
            let name = header_name(name)?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                anyhow::anyhow!(
                    "the value of header '{name}' has characters a header cannot carry (a line \
                     break, or a control character)"
                )
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        if let Some(var) = &asked.bearer_token_env {
            let token = std::env::var(var).map_err(|_| {
                anyhow::anyhow!(
                    "--bearer-token-env {var}: the environment variable {var} is not set (or is \
                     not UTF-8); export it with the token, e.g. read -rs {var}; export {var}"
                )
            })?;
            let token = token.trim();
            if token.is_empty() {
                bail!("--bearer-token-env {var}: the environment variable {var} is empty");
            }
            if headers.contains_key(AUTHORIZATION) {
                bail!(
                    "--bearer-token-env and an Authorization header both set Authorization; \
                     give one"
                );
            }
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                anyhow::anyhow!(
                    "the token in {var} has characters a header cannot carry (a line break, or \
                     a control character)"
                )
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let cacert = match &asked.cacert {
            Some(path) => Some((path.clone(), read_pem(path)?)),
            None => None,
        };
        Ok(Access {
            headers,
            cacert,
            insecure: asked.insecure,
        })
    }

    /// The names of the headers added to every request (never their values), sorted.
    pub(crate) fn header_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.headers.keys().map(ToString::to_string).collect();
        names.sort();
        names
    }

    /// Add the extra headers to a request's.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
    }

    /// Whether there are headers to add.
    pub(crate) fn has_headers(&self) -> bool {
        !self.headers.is_empty()
    }

    /// The HTTPS client's trust settings: `--cacert` added to the system's roots, or no
    /// verification at all with `--insecure`.
    pub(crate) fn tls(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        let mut builder = builder;
        if let Some((path, pem)) = &self.cacert {
            let certs = reqwest::Certificate::from_pem_bundle(pem).with_context(|| {
                format!("--cacert {}: not a PEM certificate file", path.display())
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        Ok(builder.tls_danger_accept_invalid_certs(self.insecure))
    }
}

/// A header name a user may set.
fn header_name(name: &str) -> Result<HeaderName> {
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        anyhow::anyhow!("'{name}' is not a header name (letters, digits and - only)")
    })?;
    if RESERVED.contains(&name.as_str()) {
        bail!(
            "the header '{name}' is set by zen's MCP client itself (it frames each request); it \
             cannot be overridden"
        );
    }
    Ok(name)
}

/// A PEM file with at least one certificate.
fn read_pem(path: &Path) -> Result<Vec<u8>> {
    let pem =
        std::fs::read(path).with_context(|| format!("--cacert: cannot read {}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).ok();
    if certs.is_none_or(|c| c.is_empty()) {
        bail!(
            "--cacert {}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(pem)
}

/// One `-H` as given: a `Name: value` pair, or text that is not one. Parsing never fails in
/// clap, whose error would repeat the text (and so the secret in it); a malformed one is refused
/// when the run is set up, by its position and name only ([`HeaderArg::pair`]).
#[derive(Clone, PartialEq, Eq)]
pub enum HeaderArg {
    /// `Name: value`.
    Pair(String, String),
    /// Not `Name: value`: the word it starts with when that reads as a header name, to name it.
    Malformed(Option<String>),
}

impl std::fmt::Debug for HeaderArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderArg::Pair(name, _) => write!(f, "{name}: (value not shown)"),
            HeaderArg::Malformed(name) => write!(f, "malformed header {name:?}"),
        }
    }
}

impl HeaderArg {
    /// The pair, or an error naming the `index`-th (0-based) `-H` and never its value.
    pub(crate) fn pair(&self, index: usize) -> Result<(&str, &str)> {
        match self {
            HeaderArg::Pair(name, value) => Ok((name, value)),
            HeaderArg::Malformed(name) => {
                let which = match name {
                    Some(name) => format!("-H #{} ({name} …)", index + 1),
                    None => format!("-H #{}", index + 1),
                };
                bail!(
                    "{which} is not 'Name: value' (its text is not shown: it may hold a \
                     secret); e.g. -H 'X-Api-Key: …', or --bearer-token-env VAR for a token"
                )
            }
        }
    }
}

/// `-H 'Name: value'`, split at the first colon. Never an error (see [`HeaderArg`]).
#[allow(
    clippy::unnecessary_wraps,
    reason = "clap's value parser signature; refused later, by name only"
)]
pub(crate) fn parse_header(text: &str) -> Result<HeaderArg, String> {
    Ok(match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            HeaderArg::Pair(name.trim().to_string(), value.trim().to_string())
        }
        _ => {
            // The first word names it only when a separator follows (`X-Api-Key secret`,
            // `X-Api-Key=secret`): a lone word may be the secret itself.
            let word = text.trim_start().split([' ', '=', '\t']).next();
            let separated = word.is_some_and(|w| text.trim().len() > w.len());
            let named = word.filter(|w| {
                separated && !w.is_empty() && HeaderName::from_bytes(w.as_bytes()).is_ok()
            });
            HeaderArg::Malformed(named.map(str::to_string))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked_and_reported_by_name_only() {
        assert_eq!(
            parse_header("X-Api-Key: a:b ").unwrap(),
            HeaderArg::Pair("X-Api-Key".to_string(), "a:b".to_string())
        );
        let bad = parse_header("X-Api-Key s3cret").unwrap();
        let err = bad.pair(1).unwrap_err().to_string();
        assert!(
            err.starts_with("-H #2 (X-Api-Key …) is not 'Name: value'"),
            "{err}"
        );
        assert!(!err.contains("s3cret") && !format!("{bad:?}").contains("s3cret"));
        // A lone word may be the secret itself: not even it is named.
        let lone = parse_header("s3cret")
            .unwrap()
            .pair(0)
            .unwrap_err()
            .to_string();
        assert!(
            lone.starts_with("-H #1 is not") && !lone.contains("s3cret"),
            "{lone}"
        );
        let pair = parse_header("X-Api-Key: s3cret").unwrap();
        assert!(!format!("{pair:?}").contains("s3cret"));
        let asked = AccessAsked {
            headers: vec![("X-Api-Key".into(), "s3cret".into())],
            ..AccessAsked::default()
        };
        let access = Access::build(&asked).unwrap();
        assert_eq!(access.header_names(), ["x-api-key"]);
        assert!(!format!("{access:?}").contains("s3cret"));
        let reserved = AccessAsked {
            headers: vec![("Mcp-Session-Id".into(), "x".into())],
            ..AccessAsked::default()
        };
        assert!(Access::build(&reserved).is_err());
        let missing = AccessAsked {
            bearer_token_env: Some("ZEN_TEST_SURELY_UNSET_VAR".into()),
            ..AccessAsked::default()
        };
        let err = Access::build(&missing).unwrap_err().to_string();
        assert!(
            err.contains("ZEN_TEST_SURELY_UNSET_VAR is not set"),
            "{err}"
        );
    }
}
