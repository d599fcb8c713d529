//! zen-mcp-server's `*_ALLOWED_MODELS`: a provider with a list serves only the models on it. A
//! model is allowed when its name, the name it was asked by, or the model an entry's alias
//! names is on the list, compared without regard to case, as zen-mcp-server does.
use super::Provider;

/// One provider's allowed models.
#[derive(Debug, Clone)]
pub(crate) struct AllowList {
    /// The variable it came from, named in refusals.
    pub var: &'static str,
    /// The entries as written, lowercased, for messages.
    pub entries: Vec<String>,
    /// The entries and the canonical names of listed models they name, lowercased.
    names: Vec<String>,
}

impl AllowList {
    /// The list `entries` (lowercased already) of `var`, for `provider`: entries that are
    /// aliases also allow the model they name. Entries that name nothing the provider knows are
    /// warned about (a typo would otherwise allow nothing and say nothing).
    pub(crate) fn new(var: &'static str, entries: Vec<String>, provider: &dyn Provider) -> Self {
        let mut names = entries.clone();
        for entry in &entries {
            match provider.find(entry) {
                Some(model) => names.push(model.name.to_ascii_lowercase()),
                None if provider.accepts(entry) => {}
                None => tracing::warn!(
                    "{var}: '{entry}' is not a model {} knows; it allows nothing unless the \
                     provider serves a model of that name (check for a typo; listmodels shows \
                     the known models)",
                    provider.name()
                ),
            }
        }
        AllowList {
            var,
            entries,
            names,
        }
    }

    /// Whether a model asked for as `requested`, resolving to `canonical`, may be used.
    pub(crate) fn permits(&self, requested: &str, canonical: &str) -> bool {
        let on = |name: &str| self.names.iter().any(|n| n.eq_ignore_ascii_case(name));
        on(requested) || on(canonical)
    }

    /// The refusal for a model not on the list.
    pub(crate) fn refusal(&self, requested: &str, provider: &str) -> String {
        format!(
            "model '{requested}' is not allowed: {}={} restricts {provider} to those models. \
             Use one of them, or add the model to {} and restart zen.",
            self.var,
            self.entries.join(","),
            self.var
        )
    }
}
