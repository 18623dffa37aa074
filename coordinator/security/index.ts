// The coordinator's security checks (docs/security.md says where the coordinator calls each one).
export { screenDeviceMessage, type Accepted, type Refused, type InboundMessage, type ScreenContext } from './screen-message.ts';
export { decideRegistration, checkRegistered, type AdmittedVia, type RegistrationRequest } from './admission.ts';
export { checkIdentity, brokerUsernameFrom, type IdentityEvidence } from './identity.ts';
export { checkJobPlan, checkPlanPolicy, type PlanUnderPolicy } from './plan-policy.ts';
export { checkPayloadSize } from './payload-limits.ts';
export type { Decision, Rejection, RejectCode } from './decision.ts';
