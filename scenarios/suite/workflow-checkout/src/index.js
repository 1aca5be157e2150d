import { shop } from "./shop.js";
export { Payments } from "./payments.js";
export { Checkout } from "./checkout.js";

export default shop;
