/** Group roles: pure, shared by the server's rules and the islands that show who may do what. */
export type Role = "owner" | "admin" | "member";

/** A higher rank may act on a lower one; members are listed by rank, owner first. */
export const RANK: Readonly<Record<Role, number>> = { owner: 3, admin: 2, member: 1 };
