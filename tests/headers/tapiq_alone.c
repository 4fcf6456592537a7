/* <tapiq/tapiq.h> compiles alone (C11, -Wall -Wextra -Werror -pedantic). */
#include <tapiq/tapiq.h>

int main(void)
{
    tapiq_stats s = {0};
    tapiq_update u = {0, PHONELAMPMODE_OFF, 0};
    return (int)(s.accepted + u.lamp);
}
