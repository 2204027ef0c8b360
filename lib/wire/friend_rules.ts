/** Limits of friend requests and remarks: pure, shared by the server and the islands. */
export const NOTE_MAX = 60;
export const REMARK_MAX = 32;
