//! The target of a run from the flags over the scenario's `[target]`: which server, the
//! environment of a spawned one, and the credentials and trust of an HTTP one.
use anyhow::{Result, bail};

use crate::args::TargetArgs;
use crate::plan::scenario::Scenario;
use crate::target::TargetSpec;
use crate::target::access::{Access, AccessAsked};

/// Which server: `--stdio` or `--url` first, then the scenario's, else this zen spawned.
pub(crate) fn spec(target: &TargetArgs, scenario: &Scenario) -> Result<TargetSpec> {
    let spec = match (
        &target.stdio,
        &target.url[..],
        &scenario.target.stdio,
        &scenario.target.url,
    ) {
        (Some(cmd), _, _, _) => TargetSpec::Stdio(cmd.clone()),
        (_, [_, ..], _, _) => TargetSpec::Url(target.url.clone()),
        (_, _, Some(cmd), _) => TargetSpec::Stdio(cmd.clone()),
        (_, _, _, Some(url)) => TargetSpec::Url(vec![url.clone()]),
        _ => TargetSpec::SpawnSelf,
    };
    if let TargetSpec::Url(urls) = &spec
        && let Some(url) =
            (urls.iter()).find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        bail!("--url '{url}' is not an http:// or https:// URL (e.g. http://127.0.0.1:8931/mcp)");
    }
    Ok(spec)
}

/// Environment for a spawned target: the scenario's, `--env` pairs over it (none for `--url`).
pub(crate) fn env(
    target: &TargetArgs,
    scenario: &Scenario,
    spec: &TargetSpec,
) -> Result<Vec<(String, String)>> {
    let mut env: Vec<(String, String)> = match spec {
        // A server already running keeps the environment it was started with; a scenario
        // written for a spawned zen still drives it, so its env is set aside, not an error.
        TargetSpec::Url(urls) => {
            let url = urls.join(", ");
            if let Some((key, _)) = target.env.first() {
                bail!(
                    "--env {key}=… would be ignored: {url} is a server that is already \
                     running, so set its environment where you start it (--env is for a \
                     spawned target)"
                );
            }
            if !scenario.target.env.is_empty() {
                tracing::warn!(
                    %url,
                    "the scenario's [target] env applies to a spawned target; ignored for --url"
                );
            }
            Vec::new()
        }
        _ => scenario.target.env.clone().into_iter().collect(),
    };
    for (k, v) in &target.env {
        env.retain(|(key, _)| key != k);
        env.push((k.clone(), v.clone()));
    }
    Ok(env)
}

/// The access flags over the scenario's `[target]` keys, checked and read (only an HTTP target
/// takes them).
pub(crate) fn access(
    target: &TargetArgs,
    scenario: &Scenario,
    spec: &TargetSpec,
) -> Result<std::sync::Arc<Access>> {
    let st = &scenario.target;
    let mut headers: Vec<(String, String)> = (st.headers.iter())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (i, header) in target.headers.iter().enumerate() {
        let (name, value) = header.pair(i)?;
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        headers.push((name.to_string(), value.to_string()));
    }
    let asked = AccessAsked {
        headers,
        bearer_token_env: target
            .bearer_token_env
            .clone()
            .or_else(|| st.bearer_token_env.clone()),
        cacert: target.cacert.clone().or_else(|| st.cacert.clone()),
        insecure: target.insecure || st.insecure,
    };
    if !asked.is_empty() && !matches!(spec, TargetSpec::Url(_)) {
        bail!(
            "headers, --bearer-token-env, --cacert and --insecure are for an HTTP target \
             (--url); a stdio server is a process of yours and takes its credentials from \
             --env"
        );
    }
    Ok(std::sync::Arc::new(Access::build(&asked)?))
}
