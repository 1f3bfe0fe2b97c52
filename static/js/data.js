/* 家访通 what the phone keeps from the server, looked up for the views: the kinds and which of them this user may
 * write, the roster's children, the emergency report's categories and clocks. Every rule here is the server's answer
 * (GET /api/v1/kinds, /api/v1/roster), kept for offline use; nothing is decided on the phone. */
(function (JF) {
  "use strict";
  const state = () => JF.app.state;

  const kindOf = (name) => (state().kinds || []).find((k) => k.name === name);
  const children = () => (state().roster && state().roster.children) || [];
  const childOf = (id) => children().find((c) => c.id === id);
  /** This user's records about a child still on the phone (saved, not drafts). */
  const recordsFor = (childId) => state().records.filter((r) => r.child_id === childId && r.status !== "draft");
  const isCommittee = () => !!(state().user && state().user.role === "committee");
  /** The server's answer whether this user's role may do `capability` (GET /api/v1/session). A user kept from before
   * the server sent capabilities keeps every control until the next refresh rather than losing one offline. */
  const can = (capability) => {
    const caps = state().user && state().user.capabilities;
    return !Array.isArray(caps) || caps.includes(capability);
  };

  /** The kinds whose `writers` include this user's role: what the server's validation would accept from them.
   * A copy of the kinds from before the server said so offers none until the next refresh, rather than a wrong one. */
  function writableKinds() {
    const role = state().user && state().user.role;
    return (state().kinds || []).filter((k) => Array.isArray(k.writers) && k.writers.includes(role) && !k.group);
  }

  /** The group kinds (a group activity) this user may record: started from the home screen, not a child's card. */
  function groupKinds() {
    const role = state().user && state().user.role;
    return (state().kinds || []).filter((k) => k.group && Array.isArray(k.writers) && k.writers.includes(role));
  }

  /** {categories: [{value, label}], clocks: [{target, minutes, label, within}]}, or null before the first refresh. */
  const incidentRules = () => state().incident || null;

  JF.data = { kindOf, children, childOf, recordsFor, isCommittee, can, writableKinds, groupKinds, incidentRules };
})(self.JF = self.JF || {});
