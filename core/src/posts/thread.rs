//! Threads as readers see them: replies nested by parent, oldest first, with deleted replies
//! kept as stubs only where they still hold live replies, and nesting capped at a visual depth.
//!
//! Pure functions over rows already loaded (one query per page), so they are unit-tested here.

use std::collections::HashMap;

use super::Post;

/// A thread with more live replies than this is collapsed on the front page ...
pub const COLLAPSE_OVER: usize = 5;
/// ... to its newest this many replies, with "Show all N replies".
pub const COLLAPSED_SHOWS: usize = 3;
use crate::users::Profile;

/// One reply placed in the displayed tree.
#[derive(Debug)]
pub struct Node<'a> {
    /// The reply.
    pub post: &'a Post,
    /// Its author.
    pub author: &'a Profile,
    /// Shown as "This reply was deleted" (it still holds live replies).
    pub deleted: bool,
    /// Visual depth, 1 = a reply to the post.
    pub depth: u8,
    /// The parent's author, when the reply is displayed flatter than its real parent.
    pub in_reply_to: Option<&'a str>,
    /// Replies displayed inside this one.
    pub children: Vec<Node<'a>>,
}

/// Index of a thread's replies (ordered by id, deleted ones included).
pub struct Thread<'a> {
    replies: &'a [(Post, Profile)],
    root_author: &'a str,
    by_id: HashMap<i32, usize>,
    children: HashMap<i32, Vec<usize>>,
    keep: Vec<bool>,
    live: usize,
}

impl<'a> Thread<'a> {
    /// Indexes `replies` (all of one thread, ascending id) under the post written by
    /// `root_author`.
    pub fn new(replies: &'a [(Post, Profile)], root_author: &'a str) -> Self {
        let by_id: HashMap<i32, usize> = replies
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.id, i))
            .collect();
        let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
        for (i, (p, _)) in replies.iter().enumerate() {
            if let Some(parent) = p.parent_id {
                children.entry(parent).or_default().push(i);
            }
        }
        // A reply is kept if it is live or holds a kept reply. Children have larger ids than
        // their parents, so one pass from the newest settles every reply.
        let mut keep: Vec<bool> = replies
            .iter()
            .map(|(p, _)| p.deleted_at.is_none())
            .collect();
        for i in (0..replies.len()).rev() {
            if keep[i] {
                if let Some(&pi) = replies[i].0.parent_id.and_then(|pid| by_id.get(&pid)) {
                    keep[pi] = true;
                }
            }
        }
        let live = replies
            .iter()
            .filter(|(p, _)| p.deleted_at.is_none())
            .count();
        Self {
            replies,
            root_author,
            by_id,
            children,
            keep,
            live,
        }
    }

    /// For a thread loaded only in part (the newest replies of a collapsed thread, with their
    /// parents): the number of live replies the whole thread has.
    pub fn with_live_count(mut self, live: usize) -> Self {
        self.live = live;
        self
    }

    /// Live (not deleted) replies.
    pub fn live_count(&self) -> usize {
        self.live
    }

    fn author_of_parent(&self, reply: &Post) -> &'a str {
        match reply.parent_id.and_then(|p| self.by_id.get(&p)) {
            Some(&i) => &self.replies[i].1.display_name,
            None => self.root_author,
        }
    }

    /// The whole thread under the post whose id is `root_id`, nested up to `max_depth`;
    /// replies deeper than that follow their deepest shown ancestor at the last level.
    pub fn tree(&self, root_id: i32, max_depth: u8) -> Vec<Node<'a>> {
        self.nodes_under(root_id, 1, max_depth.max(1))
    }

    fn nodes_under(&self, parent: i32, depth: u8, max_depth: u8) -> Vec<Node<'a>> {
        let mut out = Vec::new();
        for &i in self.children.get(&parent).map(Vec::as_slice).unwrap_or(&[]) {
            if !self.keep[i] {
                continue;
            }
            let (post, author) = &self.replies[i];
            if depth < max_depth {
                out.push(Node {
                    post,
                    author,
                    deleted: post.deleted_at.is_some(),
                    depth,
                    in_reply_to: None,
                    children: self.nodes_under(post.id, depth + 1, max_depth),
                });
            } else {
                // At the last level: this reply, then all its descendants, flat, oldest first.
                let mut flat = vec![i];
                self.descendants(post.id, &mut flat);
                flat.sort_unstable();
                for j in flat {
                    let (p, a) = &self.replies[j];
                    out.push(Node {
                        post: p,
                        author: a,
                        deleted: p.deleted_at.is_some(),
                        depth,
                        in_reply_to: (j != i).then(|| self.author_of_parent(p)),
                        children: Vec::new(),
                    });
                }
            }
        }
        out
    }

    fn descendants(&self, id: i32, into: &mut Vec<usize>) {
        let mut stack = vec![id];
        while let Some(p) = stack.pop() {
            for &c in self.children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
                if self.keep[c] {
                    into.push(c);
                    stack.push(self.replies[c].0.id);
                }
            }
        }
    }

    /// The newest `n` live replies, flat and oldest first, for a collapsed thread: each says
    /// whom it answers unless it answers the post itself.
    pub fn latest(&self, n: usize) -> Vec<Node<'a>> {
        let mut idx: Vec<usize> = (0..self.replies.len())
            .rev()
            .filter(|&i| self.replies[i].0.deleted_at.is_none())
            .take(n)
            .collect();
        idx.reverse();
        idx.into_iter()
            .map(|i| {
                let (post, author) = &self.replies[i];
                let answers_reply = post.parent_id != Some(post.thread_id);
                Node {
                    post,
                    author,
                    deleted: false,
                    depth: 1,
                    in_reply_to: answers_reply.then(|| self.author_of_parent(post)),
                    children: Vec::new(),
                }
            })
            .collect()
    }

    /// The visual depth a new reply to `parent` gets, and the id of the displayed reply whose
    /// children list it joins (None: the post's own list). Mirrors [`Thread::tree`].
    pub fn placement(&self, root_id: i32, parent: i32, max_depth: u8) -> (u8, Option<i32>) {
        // Real depth of `parent` (0 for the post) and its chain of ancestors.
        let mut chain = Vec::new();
        let mut cur = parent;
        while cur != root_id {
            let Some(&i) = self.by_id.get(&cur) else {
                break;
            };
            chain.push(cur);
            match self.replies[i].0.parent_id {
                Some(p) => cur = p,
                None => break,
            }
        }
        chain.reverse(); // chain[k] is at real depth k + 1
        let depth = (chain.len() + 1).min(usize::from(max_depth.max(1))) as u8;
        // The container is the ancestor shown at depth - 1 (the post when depth is 1).
        let container = if depth >= 2 {
            Some(chain[usize::from(depth) - 2])
        } else {
            None
        };
        (depth, container)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn at(s: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + s, 0)
            .unwrap()
            .naive_utc()
    }

    fn reply(id: i32, parent: i32, author: &str, deleted: bool) -> (Post, Profile) {
        (
            Post {
                id,
                author_id: 1,
                parent_id: Some(parent),
                thread_id: 1,
                title: None,
                body_md: format!("reply {id}"),
                body_html: format!("<p>reply {id}</p>"),
                created_at: at(i64::from(id)),
                updated_at: at(i64::from(id)),
                edited_at: None,
                deleted_at: deleted.then(|| at(1000)),
            },
            Profile {
                id: 1,
                username: author.to_lowercase(),
                email: format!("{author}@example.com"),
                display_name: author.into(),
                role: "member".into(),
            },
        )
    }

    /// (id, depth, deleted, in_reply_to) in display order, children after their parent.
    fn shape(nodes: &[Node<'_>]) -> Vec<(i32, u8, bool, Option<String>)> {
        let mut out = Vec::new();
        for n in nodes {
            out.push((
                n.post.id,
                n.depth,
                n.deleted,
                n.in_reply_to.map(str::to_string),
            ));
            out.extend(shape(&n.children));
        }
        out
    }

    #[test]
    fn nests_by_parent_oldest_first() {
        let r = vec![
            reply(2, 1, "Ana", false),
            reply(3, 2, "Ben", false),
            reply(4, 1, "Cy", false),
            reply(5, 3, "Dee", false),
            reply(6, 2, "Eve", false),
        ];
        let t = Thread::new(&r, "Root");
        let tree = t.tree(1, 5);
        assert_eq!(tree.len(), 2);
        assert_eq!(tree[0].post.id, 2);
        assert_eq!(
            tree[0]
                .children
                .iter()
                .map(|n| n.post.id)
                .collect::<Vec<_>>(),
            vec![3, 6]
        );
        assert_eq!(tree[0].children[0].children[0].post.id, 5);
        assert_eq!(tree[0].children[0].children[0].depth, 3);
        assert_eq!(t.live_count(), 5);
    }

    #[test]
    fn caps_depth_and_says_whom_deeper_replies_answer() {
        // 2 → 3 → 4 → 5 → 6, plus 7 answering 4; cap at 2.
        let r = vec![
            reply(2, 1, "Ana", false),
            reply(3, 2, "Ben", false),
            reply(4, 3, "Cy", false),
            reply(5, 4, "Dee", false),
            reply(6, 5, "Eve", false),
            reply(7, 4, "Fay", false),
        ];
        let t = Thread::new(&r, "Root");
        assert_eq!(
            shape(&t.tree(1, 2)),
            vec![
                (2, 1, false, None),
                (3, 2, false, None),
                (4, 2, false, Some("Ben".into())),
                (5, 2, false, Some("Cy".into())),
                (6, 2, false, Some("Dee".into())),
                (7, 2, false, Some("Cy".into())),
            ]
        );
        // New replies land where the tree would show them.
        assert_eq!(t.placement(1, 1, 2), (1, None));
        assert_eq!(t.placement(1, 2, 2), (2, Some(2)));
        assert_eq!(t.placement(1, 6, 2), (2, Some(2)));
        assert_eq!(t.placement(1, 3, 5), (3, Some(3)));
    }

    #[test]
    fn deleted_replies_stay_as_stubs_only_when_they_hold_live_replies() {
        let r = vec![
            reply(2, 1, "Ana", true), // deleted, has a live grandchild → stub
            reply(3, 2, "Ben", true), // deleted, has a live child → stub
            reply(4, 3, "Cy", false),
            reply(5, 1, "Dee", true), // deleted leaf → hidden
            reply(6, 5, "Eve", true), // deleted leaf under deleted → both hidden
        ];
        let t = Thread::new(&r, "Root");
        assert_eq!(
            shape(&t.tree(1, 5)),
            vec![(2, 1, true, None), (3, 2, true, None), (4, 3, false, None)]
        );
        assert_eq!(t.live_count(), 1);
    }

    #[test]
    fn latest_shows_the_newest_live_replies_flat() {
        let r = vec![
            reply(2, 1, "Ana", false),
            reply(3, 2, "Ben", false),
            reply(4, 1, "Cy", false),
            reply(5, 3, "Dee", true),
            reply(6, 4, "Eve", false),
        ];
        let t = Thread::new(&r, "Root");
        assert_eq!(
            shape(&t.latest(3)),
            vec![
                (3, 1, false, Some("Ana".into())),
                (4, 1, false, None),
                (6, 1, false, Some("Cy".into()))
            ]
        );
    }
}
