// ncursesw for Swift. The wide-character API (add_wch, setcchar) is only declared
// when NCURSES_WIDECHAR is set before the header, and several ncurses entry points
// are macros that Swift cannot call; they are wrapped as inline functions here.
#ifndef ACTIONLAB_CNCURSESW_SHIM_H
#define ACTIONLAB_CNCURSESW_SHIM_H

#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncurses.h>

// COLOR_PAIR(n) and A_* attributes are macros.
static inline int cncurses_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline unsigned int cncurses_attr_bold(void) { return (unsigned int)A_BOLD; }
static inline unsigned int cncurses_attr_reverse(void) { return (unsigned int)A_REVERSE; }
static inline unsigned int cncurses_attr_underline(void) { return (unsigned int)A_UNDERLINE; }
static inline unsigned int cncurses_attr_dim(void) { return (unsigned int)A_DIM; }
static inline unsigned int cncurses_attr_normal(void) { return (unsigned int)A_NORMAL; }

// getmaxyx is a macro that assigns to its arguments.
static inline void cncurses_screen_size(int *rows, int *cols) {
    int r, c;
    getmaxyx(stdscr, r, c);
    *rows = r; *cols = c;
}

// Key codes are macros too; the ones the UI reads are exported as functions.
static inline int cncurses_key_resize(void) { return KEY_RESIZE; }
static inline int cncurses_key_up(void) { return KEY_UP; }
static inline int cncurses_key_down(void) { return KEY_DOWN; }
static inline int cncurses_key_left(void) { return KEY_LEFT; }
static inline int cncurses_key_right(void) { return KEY_RIGHT; }
static inline int cncurses_key_ppage(void) { return KEY_PPAGE; }
static inline int cncurses_key_npage(void) { return KEY_NPAGE; }
static inline int cncurses_key_home(void) { return KEY_HOME; }
static inline int cncurses_key_end(void) { return KEY_END; }
static inline int cncurses_key_backspace(void) { return KEY_BACKSPACE; }
static inline int cncurses_key_btab(void) { return KEY_BTAB; }
static inline int cncurses_key_enter(void) { return KEY_ENTER; }
static inline int cncurses_key_f(int n) { return KEY_F(n); }

// COLORS and COLOR_PAIRS may be macros (reentrant builds); read them through functions.
static inline int cncurses_color_count(void) { return COLORS; }
static inline int cncurses_pair_count(void) { return COLOR_PAIRS; }

// Draws one cell: a spacing character and up to three combining marks drawn over it
// (`count` wide characters in `text`). Building a cchar_t is awkward from Swift, and
// pairs above 32767 need setcchar's extended-pair argument, so that happens here.
static inline int cncurses_put_cell(int row, int column, const wchar_t *text, int count,
                                    unsigned int attributes, int pair) {
    wchar_t characters[5] = { 0, 0, 0, 0, 0 };
    for (int i = 0; i < count && i < 4; i++) characters[i] = text[i];
    cchar_t cell;
    if (setcchar(&cell, characters, (attr_t)attributes, 0, &pair) != OK) return ERR;
    return mvadd_wch(row, column, &cell);
}

// Ctrl-L: the next refresh clears the terminal and draws every cell again, whatever
// ncurses believes is on it (another program may have written over the screen).
static inline void cncurses_repaint_all(void) {
    clearok(curscr, TRUE);
    redrawwin(stdscr);
}

// stdscr is a global Swift 6 cannot read safely; ncurses only uses it on the main thread.
static inline WINDOW *cncurses_stdscr(void) { return stdscr; }

// ERR and KEY_CODE_YES are macros.
static inline int cncurses_err(void) { return ERR; }
static inline int cncurses_key_code_yes(void) { return KEY_CODE_YES; }
static inline int cncurses_key_dc(void) { return KEY_DC; }

#endif
