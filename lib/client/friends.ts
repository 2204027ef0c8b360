/** The client reducer's part for friends, requests, remarks and blocks (see state.ts). */
import type { Action, ChatState } from "./types.ts";
import type { RequestView, UserCard } from "../wire/protocol.ts";

type FriendAction = Extract<
  Action,
  {
    type:
      | "friend"
      | "friend_removed"
      | "friend_request"
      | "friend_request_gone"
      | "blocked"
      | "local_friends"
      | "local_outgoing";
  }
>;

/** Friends, requests and blocks: every frame is idempotent, so replaying one is harmless. */
export function reduceFriends(s: ChatState, a: FriendAction): ChatState {
  const without = (list: RequestView[], id: string) => list.filter((r) => r.user.id !== id);
  switch (a.type) {
    case "friend": {
      const u = a.friend.user;
      return {
        ...s,
        friends: { ...s.friends, [u.id]: a.friend },
        users: { ...s.users, [u.id]: u },
        requests: without(s.requests, u.id),
        outgoing: without(s.outgoing, u.id),
      };
    }
    case "friend_removed": {
      const friends = { ...s.friends };
      delete friends[a.user];
      return { ...s, friends };
    }
    case "friend_request":
      return { ...s, requests: [a.request, ...without(s.requests, a.request.user.id)] };
    case "friend_request_gone":
      return { ...s, requests: without(s.requests, a.user) };
    case "blocked": {
      const blocked = s.blocked.filter((id) => id !== a.user);
      // Blocking also drops their waiting request.
      return a.blocked
        ? { ...s, blocked: [...blocked, a.user], requests: without(s.requests, a.user) }
        : { ...s, blocked };
    }
    case "local_friends":
      return {
        ...s,
        friends: Object.fromEntries(a.friends.map((f) => [f.user.id, f])),
        users: { ...s.users, ...Object.fromEntries(a.friends.map((f) => [f.user.id, f.user])) },
        requests: a.incoming,
        outgoing: a.outgoing,
        blocked: a.blocked,
        friendsLoaded: true,
      };
    case "local_outgoing":
      return { ...s, outgoing: [a.request, ...without(s.outgoing, a.request.user.id)] };
  }
}

/** The name this user sees for someone: their remark for a friend, else the nickname. */
export function seenName(s: ChatState, user: UserCard): string {
  return s.friends[user.id]?.remark || user.nickname;
}
