/* <tapiq/tapi.h> compiles alone (C11, -Wall -Wextra -Werror -pedantic). */
#include <tapiq/tapi.h>

int main(void)
{
    PHONEMESSAGE m = {0, PHONE_REPLY, 0, 0, 0, 0};
    PHONECALLBACK cb = 0;
    (void)cb;
    return m.dwMessageID == PHONE_REPLY ? 0 : 1;
}
