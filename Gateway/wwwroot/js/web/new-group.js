import { $, describeError, element, showAlert } from './dom.js';
import { lookUp, usernamesIn } from './usernames.js';
export class NewGroupForm {
    api;
    me;
    created;
    chosen = [];
    constructor(api, me, created) {
        this.api = api;
        this.me = me;
        this.created = created;
    }
    bind(on) {
        on('new-group-button', 'click', () => this.show($('new-group').hidden));
        on('new-group-cancel', 'click', () => this.show(false, true));
        on('new-group', 'submit', (e) => {
            e.preventDefault();
            void this.create();
        });
        on('new-group-members', 'keydown', (e) => {
            // Enter after a name adds it; Enter on an empty box creates the group.
            if (e.key !== 'Enter' || !$('new-group-members').value.trim())
                return;
            e.preventDefault();
            void this.choose();
        });
        on('new-group', 'keydown', (e) => {
            if (e.key === 'Escape')
                this.show(false, true);
        });
    }
    close() {
        this.show(false);
    }
    show(open, refocus = false) {
        $('new-group').hidden = !open;
        $('new-group-button').setAttribute('aria-expanded', String(open));
        if (open)
            return $('new-group-title').focus();
        $('new-group-title').value = '';
        $('new-group-members').value = '';
        this.chosen = [];
        this.renderChosen();
        if (refocus)
            $('new-group-button').focus();
    }
    /** Looks up the names typed so far and adds them to the people chosen; false if one is unknown (the person is told). */
    async choose() {
        const input = $('new-group-members');
        const users = await lookUp(this.api, usernamesIn(input.value), (name) => `Could not add ${name} to the group`);
        if (!users)
            return false;
        for (const user of users) {
            if (user.userId !== this.me && !this.chosen.some((c) => c.userId === user.userId))
                this.chosen.push(user);
        }
        input.value = '';
        this.renderChosen();
        return true;
    }
    async create() {
        const button = $('new-group-create');
        if (button.disabled)
            return;
        // A create has no idempotency key (PROTOCOL 4.15): one at a time, or a double click makes two groups.
        button.disabled = true;
        try {
            if ($('new-group-members').value.trim() && !(await this.choose()))
                return;
            const change = await this.api.createGroup($('new-group-title').value, this.chosen.map((u) => u.userId));
            this.show(false);
            await this.created(change);
        }
        catch (error) {
            showAlert(describeError(error, 'Could not create the group'));
        }
        finally {
            button.disabled = false;
        }
    }
    renderChosen() {
        $('new-group-chosen').replaceChildren(...this.chosen.map((user) => {
            const item = element('li', undefined, user.username);
            const remove = element('button', 'icon', '×');
            remove.type = 'button';
            remove.setAttribute('aria-label', `Take ${user.username} out of the new group`);
            remove.addEventListener('click', () => {
                this.chosen = this.chosen.filter((c) => c.userId !== user.userId);
                this.renderChosen();
                $('new-group-members').focus();
            });
            item.append(remove);
            return item;
        }));
    }
}
