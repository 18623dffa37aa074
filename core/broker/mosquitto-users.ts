import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { epError } from '../errors.ts';
import { COORDINATOR_USERNAME, isValidDeviceId } from '../protocol/topics.ts';

export interface AddedUser {
  user: string;
  passwdFile: string;
  /** where the generated password was written (mode 0600), to copy to the device */
  passwordFile: string;
  /** registration token file and the sha256 the coordinator config lists, when a token was asked for */
  tokenFile?: string;
  tokenSha256?: string;
}

export interface AddUserOptions {
  user: string;
  passwdFile: string;
  secretsDir: string;
  token?: boolean;
  /** mosquitto_passwd binary; EDGEPROBE_MOSQUITTO_PASSWD overrides for unusual installs */
  tool?: string;
}

/** 32 random bytes as URL-safe base64: no characters that need quoting in files, env vars or shells. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Text(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * Adds (or re-keys) a broker user with a fresh random password. The hash is written by the broker's own
 * `mosquitto_passwd`, so the file format always matches the installed Mosquitto (1.x and 2.x differ); the
 * password is piped on stdin, never put in argv where `ps` would show it.
 */
export function addBrokerUser(opts: AddUserOptions): AddedUser {
  const { user } = opts;
  if (user !== COORDINATOR_USERNAME && !isValidDeviceId(user)) {
    throw epError('EP_BROKER_USER_INVALID', { user, coordinator: COORDINATOR_USERNAME });
  }
  const tool = opts.tool ?? process.env.EDGEPROBE_MOSQUITTO_PASSWD ?? 'mosquitto_passwd';
  const passwdFile = resolve(opts.passwdFile);
  const password = randomSecret();
  // -c creates (and would truncate) the file, so only for a file that does not exist yet
  const args = existsSync(passwdFile) ? [passwdFile, user] : ['-c', passwdFile, user];
  const run = spawnSync(tool, args, { input: `${password}\n${password}\n`, encoding: 'utf8' });
  if (run.error) {
    throw epError('EP_MOSQUITTO_PASSWD_UNAVAILABLE', { tool, reason: run.error.message });
  }
  if (run.status !== 0) {
    throw epError('EP_MOSQUITTO_PASSWD_FAILED', { tool, file: passwdFile, output: (run.stderr || run.stdout).trim() });
  }
  chmodSync(passwdFile, 0o600);
  const dir = resolve(opts.secretsDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passwordFile = join(dir, `${user}.password`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  const added: AddedUser = { user, passwdFile, passwordFile };
  if (opts.token) {
    const token = randomSecret();
    added.tokenFile = join(dir, `${user}.token`);
    writeFileSync(added.tokenFile, `${token}\n`, { mode: 0o600 });
    added.tokenSha256 = sha256Text(token);
  }
  return added;
}
