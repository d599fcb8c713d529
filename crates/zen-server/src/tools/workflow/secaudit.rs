//! `secaudit`: a security audit (OWASP Top 10, compliance, infrastructure, dependencies),
//! gathered step by step and checked by a model at the end.
use super::Spec;
use super::common::{ASK, INVESTIGATION, SEVERITY, STEPS};
use super::fields::{Field, Kind};

/// The secaudit tool.
pub(crate) const SPEC: Spec = Spec {
    name: "secaudit",
    title: "Security audit, step by step",
    description: "Audit code for security in steps: map the attack surface, then check \
                  authentication, authorization, input handling, secrets, dependencies and \
                  configuration, recording each vulnerability with its severity without a model \
                  call; the final step has a model verify the findings, find what was missed \
                  and rank the fixes.",
    prompt: include_str!("../prompts/secaudit.txt"),
    between_steps: "audit the next area (authentication, authorization, input validation, \
                    cryptography and secrets, dependencies, configuration), and record each \
                    vulnerability with its severity and where it is.",
    status_word: "security_audit",
    fields: &[STEPS, ASK, INVESTIGATION, OWN],
};

const OWN: &[Field] = &[
    Field::optional(
        "security_scope",
        Kind::Text,
        "What is audited: the application, its users, its data, where it runs.",
    ),
    Field::optional(
        "threat_level",
        Kind::Enum(&["low", "medium", "high", "critical"]),
        "How exposed or valuable the system is (default medium).",
    ),
    Field::optional(
        "compliance_requirements",
        Kind::TextList,
        "Standards to check against, e.g. SOC2, PCI DSS, HIPAA, GDPR.",
    ),
    Field::optional(
        "audit_focus",
        Kind::Enum(&[
            "owasp",
            "compliance",
            "infrastructure",
            "dependencies",
            "comprehensive",
        ]),
        "Where the audit concentrates (default comprehensive).",
    ),
    SEVERITY,
];
