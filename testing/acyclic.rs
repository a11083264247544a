//! Module dependency graph of a crate, read from its sources, and the cycles in it.
//!
//! Modules that import each other in a circle cannot be understood, tested or
//! moved one at a time; a layered crate can. This file turns that rule into a
//! test any crate of the workspace can run: include it with
//! `#[path = "<relative path>/testing/acyclic.rs"] mod acyclic;` and call
//! [`assert_acyclic`] on the crate's `src` directory.
//!
//! The graph is built from the source text with `syn`, so it needs no
//! compiler internals:
//! * modules are found from `lib.rs` (or `main.rs`) through `mod x;`
//!   declarations (`x.rs`, `x/mod.rs`, `#[path]`) and inline `mod x { ... }`;
//! * module `A` depends on module `B` when code in `A` names a path into `B`:
//!   `use crate::b::...`, `use super::...`, `use self::child::...`, a child
//!   module by its bare name, or any such path in an expression or a type;
//!   a path into the crate root itself (`crate::Value`) depends on the root;
//! * declaring a module (`mod x;`) is not a dependency, but importing from it
//!   is, so a parent that uses its child and a child that uses its parent
//!   (`use super::*`) form a circle, and the root should only declare modules
//!   and re-export;
//! * items under `#[cfg(test)]` are left out: a test module may use whatever
//!   it tests.
//!
//! Paths inside macro invocations are not seen (their tokens are not parsed).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module, named by its path from the crate root (`""` for the root).
type ModPath = Vec<String>;

/// One module found in the sources: where its children live and what it contains.
struct Module {
    path: ModPath,
    /// Directory where `mod x;` of this module looks for `x.rs` / `x/mod.rs`.
    child_dir: PathBuf,
    /// Directory of the file this module's text is in (for `#[path]`).
    file_dir: PathBuf,
    /// Source file, for messages.
    file: PathBuf,
    items: Vec<syn::Item>,
}

/// The dependency graph: for each module, the modules it depends on with
/// one path that shows why.
struct Graph {
    modules: BTreeSet<String>,
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

/// Fails (panics, as a test does) when the modules under `src_dir` import
/// each other in a circle, naming every circle and the paths that make it.
pub fn assert_acyclic(src_dir: &Path) {
    let graph = match build(src_dir) {
        Ok(g) => g,
        Err(e) => panic!("cannot read the modules of {}: {e}", src_dir.display()),
    };
    let cycles = cycles(&graph);
    if cycles.is_empty() {
        return;
    }
    let mut report = String::new();
    for cycle in &cycles {
        let shown: Vec<&str> = cycle.iter().map(|m| show(m)).collect();
        report.push_str(&format!("circle among {}:\n", shown.join(", ")));
        let members: BTreeSet<&String> = cycle.iter().collect();
        for from in cycle {
            for (to, why) in graph.edges.get(from).into_iter().flatten() {
                if members.contains(to) {
                    report.push_str(&format!("  {} -> {}  ({why})\n", show(from), show(to)));
                }
            }
        }
    }
    panic!(
        "modules of {} import each other in a circle:\n{report}",
        src_dir.display()
    );
}

/// A module's name for messages: `crate` for the root.
fn show(name: &str) -> &str {
    if name.is_empty() { "crate" } else { name }
}

/// Reads every module under `src_dir` and the dependencies between them.
fn build(src_dir: &Path) -> Result<Graph, String> {
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src_dir.join(f))
        .find(|p| p.is_file())
        .ok_or("neither lib.rs nor main.rs found")?;
    let mut modules = Vec::new();
    let items = parse_file(&root_file)?;
    collect(
        Module {
            path: Vec::new(),
            child_dir: src_dir.to_path_buf(),
            file_dir: src_dir.to_path_buf(),
            file: root_file,
            items,
        },
        &mut modules,
    )?;
    let known: BTreeSet<ModPath> = modules.iter().map(|m| m.path.clone()).collect();
    let mut graph = Graph {
        modules: known.iter().map(|p| p.join("::")).collect(),
        edges: BTreeMap::new(),
    };
    for module in &modules {
        let mut refs = Refs {
            current: &module.path,
            known: &known,
            found: BTreeMap::new(),
        };
        for item in &module.items {
            // Inline modules are modules of their own.
            if !matches!(item, syn::Item::Mod(_)) {
                refs.visit_item(item);
            }
        }
        let from = module.path.join("::");
        let entry = graph.edges.entry(from).or_default();
        for (to, why) in refs.found {
            entry
                .entry(to.join("::"))
                .or_insert_with(|| format!("`{why}` in {}", module.file.display()));
        }
    }
    Ok(graph)
}

fn parse_file(file: &Path) -> Result<Vec<syn::Item>, String> {
    let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let parsed = syn::parse_file(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(parsed.items)
}

/// Adds `module` and, recursively, the modules it declares (outside `#[cfg(test)]`).
fn collect(module: Module, out: &mut Vec<Module>) -> Result<(), String> {
    for item in &module.items {
        let syn::Item::Mod(m) = item else { continue };
        if is_test_only(&m.attrs) {
            continue;
        }
        let name = m.ident.to_string();
        let mut path = module.path.clone();
        path.push(name.clone());
        let child = match &m.content {
            Some((_, items)) => Module {
                path,
                child_dir: module.child_dir.join(&name),
                file_dir: module.file_dir.clone(),
                file: module.file.clone(),
                items: items.clone(),
            },
            None => {
                let file = match path_attr(&m.attrs) {
                    Some(p) => module.file_dir.join(p),
                    None => {
                        let flat = module.child_dir.join(format!("{name}.rs"));
                        if flat.is_file() {
                            flat
                        } else {
                            module.child_dir.join(&name).join("mod.rs")
                        }
                    }
                };
                let file_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                let child_dir = if file.file_name().is_some_and(|f| f == "mod.rs") {
                    file_dir.clone()
                } else {
                    file_dir.join(&name)
                };
                Module {
                    path,
                    child_dir,
                    file_dir,
                    items: parse_file(&file)?,
                    file,
                }
            }
        };
        collect(child, out)?;
    }
    out.push(module);
    Ok(())
}

/// The value of a `#[path = "..."]` attribute.
fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// Whether the attributes compile the item only for tests (`#[cfg(test)]`,
/// `#[cfg(all(test, ...))]`), so that it is not product code.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if !a.path().is_ident("cfg") {
            return false;
        }
        let Ok(list) = a.meta.require_list() else {
            return false;
        };
        let text = list.tokens.to_string().replace(' ', "");
        let all_of = text
            .strip_prefix("all(")
            .and_then(|t| t.strip_suffix(')'))
            .is_some_and(|t| t.split(',').any(|c| c == "test"));
        text == "test" || all_of
    })
}

/// Collects the modules one module's code names paths into.
struct Refs<'a> {
    current: &'a ModPath,
    known: &'a BTreeSet<ModPath>,
    /// Target module -> the first path seen that names it.
    found: BTreeMap<ModPath, String>,
}

impl Refs<'_> {
    /// Records the module a path (as a list of segments) leads into, if any.
    fn record(&mut self, segments: &[String]) {
        let Some(target) = self.resolve(segments) else {
            return;
        };
        if &target != self.current {
            self.found
                .entry(target)
                .or_insert_with(|| segments.join("::"));
        }
    }

    /// The deepest module of this crate a path leads into, or `None` for
    /// paths outside the crate's modules (other crates, local items).
    fn resolve(&self, segments: &[String]) -> Option<ModPath> {
        let (first, _) = segments.split_first()?;
        let (mut base, mut rest): (ModPath, &[String]) = match first.as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" => (self.current.clone(), &segments[1..]),
            "super" => {
                let mut base = self.current.clone();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                (base, rest)
            }
            _ => {
                let mut child = self.current.clone();
                child.push(first.clone());
                if !self.known.contains(&child) {
                    return None;
                }
                (self.current.clone(), segments)
            }
        };
        while let Some((next, tail)) = rest.split_first() {
            let mut deeper = base.clone();
            deeper.push(next.clone());
            if !self.known.contains(&deeper) {
                break;
            }
            base = deeper;
            rest = tail;
        }
        Some(base)
    }

    /// Records every path of a `use` tree.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.record(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.record(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.record(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Union(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            _ => &[],
        };
        if is_test_only(attrs) {
            return;
        }
        if let syn::Item::Use(u) = item {
            // `use ::x` names another crate.
            if u.leading_colon.is_none() {
                self.use_tree(&mut Vec::new(), &u.tree);
            }
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs: &[syn::Attribute] = match item {
            syn::ImplItem::Const(i) => &i.attrs,
            syn::ImplItem::Fn(i) => &i.attrs,
            syn::ImplItem::Type(i) => &i.attrs,
            syn::ImplItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !is_test_only(attrs) {
            syn::visit::visit_impl_item(self, item);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        // A lone name is a local item or variable, never a module (a module
        // is only named on the way to something in it); `::x` is another crate.
        if segments.len() > 1 && path.leading_colon.is_none() {
            self.record(&segments);
        }
        syn::visit::visit_path(self, path);
    }
}

/// Every circle of the graph: its strongly connected components of more
/// than one module, each sorted, in a stable order.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    // Tarjan's algorithm, iterative over an explicit stack of (node, next edge).
    let names: Vec<&String> = graph.modules.iter().collect();
    let index_of: BTreeMap<&String, usize> =
        names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let adjacency: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            graph
                .edges
                .get(*n)
                .into_iter()
                .flatten()
                .filter_map(|(to, _)| index_of.get(to).copied())
                .collect()
        })
        .collect();
    let count = names.len();
    let mut index = vec![usize::MAX; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut components = Vec::new();
    for start in 0..count {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work = vec![(start, 0usize)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&to) = adjacency[node].get(*edge) {
                *edge += 1;
                if index[to] == usize::MAX {
                    index[to] = next_index;
                    low[to] = next_index;
                    next_index += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    work.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(index[to]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(names[member].clone());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    components.push(component);
                }
            }
        }
    }
    components.sort();
    components
}
