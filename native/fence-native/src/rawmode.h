/* The host side of terminal mode: Fence's own terminal in raw mode while the sandbox's relay
 * (pty.c) owns the keystrokes, and its mode put back exactly afterwards. */
#ifndef FENCE_RAWMODE_H
#define FENCE_RAWMODE_H

#include <termios.h>

/* Saves the terminal's mode into `saved`, then sets raw mode. Returns 0 or -errno (ENOTTY). */
int term_make_raw(int fd, struct termios *saved);
/* Sets the mode `saved` by term_make_raw. Returns 0 or -errno. */
int term_restore(int fd, const struct termios *saved);

#endif
