// The open group's info panel: its members with their roles, what the viewer's role lets them do (add
// and remove members, change roles, rename: PROTOCOL 4.15, "Roles") and leaving. The members and roles
// are the server's (GET /v1/conversations/{id}), read again whenever one of the group's membership events
// arrives, so the panel follows changes made by anyone, anywhere; the server still decides every command.
import { MessengerError } from '../src/index.js';
import { $, describeError, element, showAlert } from './dom.js';
import { lookUp, usernamesIn } from './usernames.js';
import { roleWithArticle } from './words.js';
const rank = { owner: 0, admin: 1, member: 2 };
export class GroupPanel {
    api;
    model;
    words;
    open;
    resolveNames;
    /** The group shown (undefined while closed), and the server's last word on it. */
    id;
    group;
    /** Counts reads and commands, so that an older answer never replaces a newer one. */
    generation = 0;
    constructor(api, model, words, open, resolveNames) {
        this.api = api;
        this.model = model;
        this.words = words;
        this.open = open;
        this.resolveNames = resolveNames;
    }
    bind(on) {
        on('group-info-button', 'click', () => {
            const chat = this.open();
            if (this.id || !chat)
                this.close(true);
            else
                void this.show(chat);
        });
        on('group-panel-close', 'click', () => this.close(true));
        on('group-panel', 'keydown', (e) => {
            if (e.key !== 'Escape')
                return;
            if (!$('leave-confirm').hidden)
                this.confirmLeave(false);
            else
                this.close(true);
        });
        on('rename-group', 'submit', (e) => {
            e.preventDefault();
            void this.rename();
        });
        on('add-members', 'submit', (e) => {
            e.preventDefault();
            void this.add();
        });
        on('leave-group', 'click', () => this.confirmLeave(true));
        on('leave-no', 'click', () => this.confirmLeave(false));
        on('leave-yes', 'click', () => void this.leave());
    }
    /** The group whose panel is open. */
    get shown() {
        return this.id;
    }
    /** Closes the panel; with `refocus`, the keyboard goes back to the button that opened it. */
    close(refocus = false) {
        this.id = undefined;
        this.group = undefined;
        this.generation++;
        $('group-panel').hidden = true;
        $('group-info-button').setAttribute('aria-expanded', 'false');
        this.confirmLeave(false);
        if (refocus)
            $('group-info-button').focus();
    }
    /** A membership event of `conversationId` arrived: if its panel is open, the group is read again. */
    refresh(conversationId) {
        if (this.id === conversationId)
            void this.load();
    }
    async show(chat) {
        this.id = chat.id;
        this.group = undefined;
        $('group-panel').hidden = false;
        $('group-info-button').setAttribute('aria-expanded', 'true');
        this.render();
        $('group-panel-title').focus();
        await this.load();
    }
    async load() {
        const id = this.id;
        if (!id)
            return;
        const generation = ++this.generation;
        try {
            const group = await this.api.conversation(id);
            await this.resolveNames(group.members);
            if (generation !== this.generation)
                return;
            this.group = group;
        }
        catch (error) {
            if (generation !== this.generation)
                return;
            // Removed, or left from another device: the chat says so; there is nothing left to show here.
            if (error instanceof MessengerError && error.code === 'not_member')
                return this.close();
            showAlert(describeError(error, 'Could not load the group'));
        }
        this.render();
    }
    /** Runs one group command; shows its answer, or the error in words (and reads the group again: it may have changed). */
    async command(failed, run) {
        const id = this.id;
        if (!id)
            return false;
        const generation = ++this.generation;
        try {
            const change = await run(this.api, id);
            await this.resolveNames(change.conversation.members);
            if (generation === this.generation && this.id === id) {
                this.group = change.conversation;
                this.render();
            }
            return true;
        }
        catch (error) {
            showAlert(describeError(error, failed));
            void this.load();
            return false;
        }
    }
    async rename() {
        const input = $('rename-group-title');
        await this.command('Could not rename the group', (api, id) => api.renameGroup(id, input.value));
    }
    async add() {
        const input = $('add-members-names');
        const names = usernamesIn(input.value);
        if (names.length === 0)
            return showAlert('Type the usernames of the people to add.');
        const users = await lookUp(this.api, names, (name) => `Could not add ${name}`);
        if (!users)
            return;
        users.forEach((u) => this.model.names.set(u.userId, u.username));
        if (await this.command(`Could not add ${this.words.names(users.map((u) => u.userId))}`, (api, id) => api.addMembers(id, users.map((u) => u.userId)))) {
            input.value = '';
        }
    }
    confirmLeave(asking) {
        $('leave-group').hidden = asking;
        $('leave-confirm').hidden = !asking;
        if (asking)
            $('leave-no').focus();
        else if (this.id)
            $('leave-group').focus();
    }
    async leave() {
        // The member_left event that follows disables the composer and says "You left" in the chat.
        if (await this.command('Could not leave the group', (api, id) => api.leaveGroup(id)))
            this.close();
        else
            this.confirmLeave(false);
    }
    render() {
        const group = this.group;
        $('group-panel-note').hidden = !!group;
        $('group-panel-body').hidden = !group;
        if (!group)
            return;
        const mine = roleOf(group, this.model.me);
        const manages = mine !== 'member';
        $('rename-group').hidden = !manages;
        $('add-members').hidden = !manages;
        const title = $('rename-group-title');
        if (document.activeElement !== title)
            title.value = group.title ?? '';
        $('leave-question').textContent = `Leave “${group.title ?? 'this group'}”? You will no longer get its messages.`;
        $('group-members-heading').textContent = `Members (${group.memberCount})`;
        // The focused action survives the redraw when its button is still there (same label); else the panel takes it.
        const list = $('group-members');
        const focused = list.contains(document.activeElement) ? document.activeElement?.getAttribute('aria-label') : undefined;
        const members = [...group.members].sort((a, b) => rank[roleOf(group, a)] - rank[roleOf(group, b)] || this.words.name(a).localeCompare(this.words.name(b)));
        list.replaceChildren(...members.map((userId) => this.member(group, userId, mine)));
        if (focused !== undefined) {
            const again = Array.from(list.querySelectorAll('button')).find((b) => b.getAttribute('aria-label') === focused);
            (again ?? $('group-panel-title')).focus();
        }
    }
    /** One member: name and role, and the actions the viewer's role allows on them (the server has the last word). */
    member(group, userId, mine) {
        const role = roleOf(group, userId);
        const name = this.words.name(userId);
        const item = element('li');
        item.dataset.userId = userId;
        item.append(element('span', 'who', userId === this.model.me ? `${name} (you)` : name), element('span', 'role', role));
        if (userId === this.model.me || mine === 'member')
            return item;
        const action = (text, label, failed, run) => {
            const button = element('button', 'secondary', text);
            button.type = 'button';
            button.setAttribute('aria-label', label);
            button.addEventListener('click', () => void this.command(failed, run));
            item.append(button);
        };
        const setRole = (to) => action(`Make ${to}`, `Make ${name} ${roleWithArticle(to)}`, `Could not make ${name} ${roleWithArticle(to)}`, (api, id) => api.setRole(id, userId, to));
        // Only an owner gives or takes the owner role, and removes an owner.
        if (mine === 'owner' && role !== 'owner')
            setRole('owner');
        if (role === 'member')
            setRole('admin');
        if (role === 'admin')
            setRole('member');
        if (role === 'owner' && mine === 'owner')
            setRole('admin');
        if (role !== 'owner' || mine === 'owner') {
            action('Remove', `Remove ${name} from the group`, `Could not remove ${name}`, (api, id) => api.removeMember(id, userId));
        }
        return item;
    }
}
function roleOf(group, userId) {
    return group.owners?.includes(userId) ? 'owner' : group.admins?.includes(userId) ? 'admin' : 'member';
}
