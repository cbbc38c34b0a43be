export class RelayUsernameTakenError extends Error {
  readonly code = 'RELAY_USERNAME_TAKEN';
  constructor(readonly username: string) {
    super(`the relay user name ${username} is taken`);
  }
}
