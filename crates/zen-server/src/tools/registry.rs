//! The tool list: every tool zen has, in one place. Adding a tool is one new file (a type
//! implementing [`Tool`]) and one line in [`all_tools`]. `DISABLED_TOOLS` takes tools out of
//! tools/list and refuses calls to them; the core tools cannot be turned off.
use std::sync::Arc;

use rmcp::model::Tool as ToolDefinition;

use super::Tool;
use super::workflow::{
    WorkflowTool, analyze, codereview, debug, docgen, planner, precommit, refactor, secaudit,
    testgen, thinkdeep, tracer,
};
use crate::config::ClinkConfig;

/// Tools `DISABLED_TOOLS` cannot turn off: without them a client cannot talk to a model, see
/// what is configured, or read the figures.
pub(crate) const PROTECTED: [&str; 5] = ["chat", "listmodels", "version", "metrics", "threads"];

/// Every tool zen has, in tools/list order (clink lists the CLIs `clink` configures).
pub(crate) fn all_tools(clink: &ClinkConfig) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(super::chat::Chat),
        Arc::new(super::consensus::Consensus),
        Arc::new(WorkflowTool(&thinkdeep::SPEC)),
        Arc::new(WorkflowTool(&planner::SPEC)),
        Arc::new(WorkflowTool(&codereview::SPEC)),
        Arc::new(WorkflowTool(&precommit::SPEC)),
        Arc::new(WorkflowTool(&debug::SPEC)),
        Arc::new(WorkflowTool(&secaudit::SPEC)),
        Arc::new(WorkflowTool(&docgen::SPEC)),
        Arc::new(WorkflowTool(&analyze::SPEC)),
        Arc::new(WorkflowTool(&refactor::SPEC)),
        Arc::new(WorkflowTool(&tracer::SPEC)),
        Arc::new(WorkflowTool(&testgen::SPEC)),
        Arc::new(super::challenge::Challenge),
        Arc::new(super::apilookup::ApiLookup),
        Arc::new(super::clink::Clink::new(clink)),
        Arc::new(super::listmodels::ListModels),
        Arc::new(super::metrics::MetricsTool),
        Arc::new(super::threads::Threads),
        Arc::new(super::version::Version::default()),
    ]
}

/// The tools this server offers, after `DISABLED_TOOLS`.
pub struct ToolRegistry {
    /// Enabled tools, in list order.
    tools: Vec<Arc<dyn Tool>>,
    /// Their tools/list entries, built once (schemas are generated at start, not per request).
    definitions: Vec<ToolDefinition>,
    /// Tools turned off by `DISABLED_TOOLS`, to tell a caller why a name is refused.
    disabled: Vec<&'static str>,
}

impl ToolRegistry {
    /// The registry with `disabled` names turned off. The second value holds what the operator
    /// should hear at start: names that are protected or that zen does not have (zen-mcp-server
    /// has tools zen lacks, so an old DISABLED_TOOLS line must not stop zen from starting).
    /// `clink` names the CLIs clink's schema lists.
    pub fn new(disabled: &[String], clink: &ClinkConfig) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let all = all_tools(clink);
        let wanted: Vec<&str> = disabled
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .collect();
        for name in &wanted {
            if PROTECTED.contains(name) {
                warnings.push(format!(
                    "DISABLED_TOOLS: '{name}' cannot be disabled ({} always stay on); it stays enabled",
                    PROTECTED.join(", ")
                ));
            } else if !all.iter().any(|t| t.name() == *name) {
                warnings.push(format!(
                    "DISABLED_TOOLS: zen has no tool '{name}'; ignored (zen's tools: {})",
                    all.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let off = |t: &Arc<dyn Tool>| !PROTECTED.contains(&t.name()) && wanted.contains(&t.name());
        let disabled = all.iter().filter(|t| off(t)).map(|t| t.name()).collect();
        let tools: Vec<Arc<dyn Tool>> = all.into_iter().filter(|t| !off(t)).collect();
        let definitions = tools.iter().map(|t| definition(t.as_ref())).collect();
        let registry = ToolRegistry {
            tools,
            definitions,
            disabled,
        };
        (registry, warnings)
    }

    /// The enabled tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.name() == name)
    }

    /// Names of the enabled tools (each gets its metrics series).
    pub fn names(&self) -> Vec<&'static str> {
        self.tools.iter().map(|t| t.name()).collect()
    }

    /// What tools/list shows.
    pub fn definitions(&self) -> &[ToolDefinition] {
        &self.definitions
    }

    /// True if `name` is a tool this server has but DISABLED_TOOLS turned off.
    pub fn is_disabled(&self, name: &str) -> bool {
        self.disabled.contains(&name)
    }
}

/// A tool's tools/list entry.
fn definition(tool: &dyn Tool) -> ToolDefinition {
    ToolDefinition::new(tool.name(), tool.description(), tool.input_schema())
        .with_raw_output_schema(Arc::new(tool.output_schema()))
        .with_annotations(tool.annotations())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ClinkConfig {
        crate::config::ServeConfig::defaults().clink
    }

    #[test]
    fn protected_and_unknown_names_are_warned_about_and_the_rest_turned_off() {
        let names = ["chat", "consensus", " codereview ", "nosuchtool", ""].map(String::from);
        let (registry, warnings) = ToolRegistry::new(&names, &defaults());
        assert!(registry.get("chat").is_some() && !registry.is_disabled("chat"));
        assert!(registry.get("consensus").is_none() && registry.is_disabled("consensus"));
        assert!(registry.is_disabled("codereview"));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("'chat' cannot be disabled"));
        assert!(warnings[1].contains("no tool 'nosuchtool'"));
        assert_eq!(
            registry.definitions().len(),
            all_tools(&defaults()).len() - 2
        );
    }

    #[test]
    fn tool_names_are_unique_and_every_schema_is_an_object() {
        let all = all_tools(&defaults());
        let mut names: Vec<_> = all.iter().map(|t| t.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for t in &all {
            assert_eq!(t.input_schema()["type"], "object", "{}", t.name());
        }
    }
}
