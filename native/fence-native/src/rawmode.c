#include "rawmode.h"

#include <errno.h>

int term_make_raw(int fd, struct termios *saved) {
  struct termios raw;
  if (tcgetattr(fd, saved) != 0) return -errno;
  raw = *saved;
  /* No echo, no line editing, no signal keys, no CR/NL translation either way: every byte goes to
   * the relay as typed, and the pseudo-terminal inside does all of that for the command. */
  cfmakeraw(&raw);
  /* Changes the terminal's mode once queued output is written. */
  if (tcsetattr(fd, TCSADRAIN, &raw) != 0) return -errno;
  return 0;
}

int term_restore(int fd, const struct termios *saved) {
  /* Puts back the mode saved by term_make_raw. */
  if (tcsetattr(fd, TCSADRAIN, saved) != 0) return -errno;
  return 0;
}
