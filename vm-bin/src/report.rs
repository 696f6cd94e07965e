//! Listings of plugins, the composition and config schemas, as text or JSON.

use vm_core::Composition;
use vm_core::plugin::PluginMeta;

use crate::{Options, json};

fn caps(m: &PluginMeta) -> (String, String) {
    let provides =
        m.provides.iter().map(|c| format!("{}@{}", c.name, c.version)).collect::<Vec<_>>();
    let requires = m.requires.iter().map(|r| format!("{} {}", r.name, r.req)).collect::<Vec<_>>();
    (join_or_dash(&provides), join_or_dash(&requires))
}

fn join_or_dash(v: &[String]) -> String {
    if v.is_empty() { "-".to_owned() } else { v.join(", ") }
}

/// `vm plugins`: every registered plugin.
pub fn plugins(as_json: bool) -> Result<String, String> {
    if as_json {
        return json::plugins();
    }
    let all = vm_core::registry::plugins();
    let mut out =
        format!("{:<16} {:<9} {:<8} {:<34} {}\n", "ID", "SLOT", "VERSION", "PROVIDES", "REQUIRES");
    for r in &all {
        let m = r.meta;
        let (p, q) = caps(m);
        out += &format!(
            "{:<16} {:<9} {:<8} {:<34} {}\n",
            m.id,
            m.slot.name(),
            m.version.to_string(),
            p,
            q
        );
        out += &format!("{:<16} {}\n", "", m.description);
    }
    Ok(out)
}

/// `vm info`: the composition of this binary.
pub fn info<C: Composition>(opts: &Options, as_json: bool) -> Result<String, String> {
    let order = vm_core::compose::init_order_ids::<C>();
    let proposals: Vec<&str> = vm_core::compose::features_of::<C>().names().collect();
    if as_json {
        return json::info::<C>(opts, &order, &proposals);
    }
    let mut out = format!(
        "{} {} (features: {})\n\ncomposition:\n",
        opts.name,
        opts.version,
        if opts.features.is_empty() { "-".to_owned() } else { opts.features.join(", ") }
    );
    for slot in vm_core::Slot::ALL {
        let filled: Vec<&PluginMeta> =
            C::PLUGINS.iter().copied().filter(|m| m.slot == slot).collect();
        let text = if filled.is_empty() {
            if slot.is_singleton() {
                "(empty: modules needing it are rejected)".to_owned()
            } else {
                "-".to_owned()
            }
        } else {
            filled.iter().map(|m| format!("{} {}", m.id, m.version)).collect::<Vec<_>>().join(", ")
        };
        out += &format!("  {:<9} {}\n", slot.name(), text);
    }
    out += &format!(
        "\nwasm: 2.0{}{}\n",
        if proposals.is_empty() { "" } else { " + " },
        proposals.join(", ")
    );
    out += &format!("\ninit order: {}\n(stop and cleanup run in reverse)\n", order.join(" -> "));
    Ok(out)
}

/// `vm config`: every composed plugin's keys.
pub fn config<C: Composition>(as_json: bool) -> Result<String, String> {
    if as_json {
        return json::config::<C>();
    }
    let mut out = String::from(
        "Settings are layered: defaults < vm.toml < VM_<SECTION>_<KEY> environment < -C section.key=value\n",
    );
    for (i, m) in C::PLUGINS.iter().enumerate() {
        out += &format!("\n[{}]  # {} {}: {}\n", C::section(i), m.id, m.version, m.description);
        if m.config.is_empty() {
            out += "  (no keys)\n";
        }
        for k in m.config {
            let range =
                if k.range.is_empty() { String::new() } else { format!("  range {}", k.range) };
            out += &format!(
                "  {} : {} = {}{}\n      {}\n",
                k.name,
                k.ty.name(),
                k.default,
                range,
                k.doc
            );
        }
    }
    Ok(out)
}
