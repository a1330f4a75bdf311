/** @file text.h
 *  @brief Small in-place text helpers shared by the list and CSV parsers.
 */
#ifndef CLEAVE_TEXT_H
#define CLEAVE_TEXT_H

/** @brief Trim spaces, tabs and line ends (CR, LF) from both ends of @p s in place;
 *  returns the first kept character (inside @p s). */
char *cl_text_trim(char *s);

/** @brief 1 if @p s is one or more ASCII digits and nothing else, else 0. */
int cl_text_is_digits(const char *s);

#endif
