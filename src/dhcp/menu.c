/* PXE boot menus (PXE 2.1 option 43 sub-options 6, 8, 9, 10): the offer
 * lists the items; the firmware shows them after the prompt, and the client
 * asks this server on port 4011 for the boot file of the type chosen. */
#include "dhcp/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

int
pxe_menu_build(struct pxe_menu *menu, const struct config *cfg, char *err, size_t err_size)
{
	memset(menu, 0, sizeof *menu);
	str_copy(menu->prompt, cfg->pxe_prompt, sizeof menu->prompt);
	menu->timeout = (uint8_t)cfg->pxe_menu_timeout;
	for (size_t i = 0; i < cfg->pxe_menu.count; i++) {
		char buf[CONFIG_ITEM_MAX];
		str_copy(buf, cfg->pxe_menu.item[i], sizeof buf);
		char *bar = strchr(buf, '|');
		if (bar == NULL || menu->count >= PXE_MENU_MAX) {
			snprintf(err, err_size, "pxe-menu %s: expected 'TEXT | TARGET'%s",
			    cfg->pxe_menu.item[i], bar ? " (at most 16 items)" : "");
			return -EINVAL;
		}
		*bar = '\0';
		const char *text = trim(buf), *target = trim(bar + 1);
		if (*text == '\0' || *target == '\0' || strchr(target, ' ') != NULL) {
			snprintf(err, err_size, "pxe-menu %s: empty text or a bad target",
			    cfg->pxe_menu.item[i]);
			return -EINVAL;
		}
		size_t k = menu->count++;
		str_copy(menu->text[k], text, sizeof menu->text[k]);
		str_copy(menu->target[k], target, sizeof menu->target[k]);
		menu->type[k] = strcmp(target, "local") == 0 ? 0 : (uint16_t)(PXE_MENU_TYPE_BASE + k);
	}
	return 0;
}

void
pxe_menu_vendor(const struct pxe_menu *menu, struct in_addr server, struct pxe_vendor *v)
{
	memset(v, 0, sizeof *v);
	/* no broadcast or multicast discovery: ask the servers listed, on 4011 */
	v->discovery_control = 0x01 | 0x02 | 0x04;
	for (size_t i = 0; i < menu->count; i++) {
		str_copy(v->menu[i].text, menu->text[i], sizeof v->menu[i].text);
		v->menu[i].type = menu->type[i];
		if (menu->type[i] == 0)
			continue;
		v->servers[v->server_count].type = menu->type[i];
		v->servers[v->server_count].addr[0] = server;
		v->servers[v->server_count].count = 1;
		v->server_count++;
	}
	v->menu_count = (uint8_t)menu->count;
	v->prompt_timeout = menu->timeout;
	str_copy(v->prompt, menu->prompt, sizeof v->prompt);
}

const char *
pxe_menu_target(const struct pxe_menu *menu, uint16_t type)
{
	for (size_t i = 0; i < menu->count; i++)
		if (menu->type[i] == type && type != 0)
			return menu->target[i];
	return NULL;
}
