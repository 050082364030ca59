import { $, describeError, element, lastSeen, showAlert } from './dom.js';
export class AccountView {
    api;
    onEnded;
    cleanups = [];
    /** `onEnded` runs when this browser's session is over (logged out here, or the account deleted). */
    constructor(api, onEnded) {
        this.api = api;
        this.onEnded = onEnded;
    }
    bind() {
        const on = (id, event, handler) => {
            const target = $(id);
            target.addEventListener(event, handler);
            this.cleanups.push(() => target.removeEventListener(event, handler));
        };
        on('account-button', 'click', () => {
            const account = $('account');
            account.hidden = !account.hidden;
            $('account-button').setAttribute('aria-expanded', String(!account.hidden));
            if (!account.hidden)
                void this.refresh();
        });
        on('logout-button', 'click', () => void this.logOutHere());
        on('delete-account', 'submit', (e) => {
            e.preventDefault();
            void this.deleteAccount();
        });
    }
    close() {
        this.cleanups.forEach((c) => c());
        $('account').hidden = true;
        $('account-button').setAttribute('aria-expanded', 'false');
        $('device-list').replaceChildren();
    }
    async refresh() {
        let devices;
        try {
            devices = await this.api.devices();
        }
        catch (error) {
            return showAlert(describeError(error, 'Could not list your devices'));
        }
        const now = Date.now();
        $('device-list').replaceChildren(...devices.map((device) => {
            const item = element('li');
            item.dataset.deviceId = device.deviceId;
            const name = device.name ?? device.deviceId;
            const state = device.current ? 'this browser' : device.live ? 'connected' : lastSeen(device.lastActiveAt, now, 'active');
            item.append(element('span', 'what', `${name} · ${state}`));
            if (!device.current) {
                const button = element('button', 'secondary', 'Log out');
                button.type = 'button';
                button.setAttribute('aria-label', `Log out ${name}`);
                button.addEventListener('click', () => void this.logOutDevice(device.deviceId, name));
                item.append(button);
            }
            return item;
        }));
    }
    async logOutDevice(deviceId, name) {
        try {
            await this.api.logOutDevice(deviceId);
        }
        catch (error) {
            showAlert(describeError(error, `Could not log out ${name}`));
        }
        await this.refresh();
    }
    async logOutHere() {
        try {
            await this.api.logOut();
        }
        catch {
            // Already logged out, or the server is away: this browser forgets the token either way.
        }
        this.onEnded();
    }
    async deleteAccount() {
        const input = $('delete-password');
        if (!input.value)
            return showAlert('Enter your password to delete your account.');
        try {
            await this.api.deleteAccount(input.value);
        }
        catch (error) {
            return showAlert(describeError(error, 'Your account was not deleted'));
        }
        finally {
            input.value = '';
        }
        this.onEnded('Your account has been deleted.');
    }
}
