//! Nodes Markdown cannot express faithfully (extensions, layouts, task lists,
//! unknown future node types…) are shown as a visible placeholder `[KIND](adf:ID)`
//! and kept here, so that writing the placeholder back restores the original
//! node unchanged. Bounded: the oldest entries go first; a placeholder whose node
//! is gone stays visible text, and the loss check refuses the write.

use std::{
    collections::{HashMap, VecDeque},
    hash::{DefaultHasher, Hash, Hasher},
    sync::{LazyLock, Mutex},
};

use serde_json::Value;

/// Most nodes kept at once.
const CAPACITY: usize = 4096;

#[derive(Default)]
struct Store {
    nodes: HashMap<String, Value>,
    order: VecDeque<String>,
}

static STORE: LazyLock<Mutex<Store>> = LazyLock::new(|| Mutex::new(Store::default()));

fn lock() -> std::sync::MutexGuard<'static, Store> {
    STORE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keeps `node` and returns the id its placeholder carries (the same node always
/// gets the same id within a process).
pub(super) fn keep(node: &Value) -> String {
    let text = node.to_string();
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    let id = format!("{:012x}", h.finish() & 0xffff_ffff_ffff);
    let mut store = lock();
    if !store.nodes.contains_key(&id) {
        if store.order.len() >= CAPACITY
            && let Some(old) = store.order.pop_front()
        {
            store.nodes.remove(&old);
        }
        store.order.push_back(id.clone());
        store.nodes.insert(id.clone(), node.clone());
    }
    id
}

/// The node a placeholder id stands for, if it is still kept.
pub(super) fn restore(id: &str) -> Option<Value> {
    lock().nodes.get(id).cloned()
}
